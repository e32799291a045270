"""The admin UI's in-memory session store: expiry, eviction, logout."""
from __future__ import annotations

from apaf.admin import sessions
from apaf.admin.sessions import SessionStore


def test_sessions_expire_when_idle():
    now = [0.0]
    store = SessionStore(clock=lambda: now[0])
    anonymous, user = store.new(), store.new(authenticated=True)
    now[0] = sessions.ANONYMOUS_SECONDS + 1
    assert store.get(anonymous.id) is None
    assert store.get(user.id) is user  # and this use refreshes it
    now[0] += sessions.IDLE_SECONDS - 1
    assert store.get(user.id) is user
    now[0] += sessions.IDLE_SECONDS + 1
    assert store.get(user.id) is None


def test_many_login_forms_never_evict_a_logged_in_session():
    store = SessionStore()
    user = store.new(authenticated=True)
    for _ in range(sessions.MAX_SESSIONS * 3):
        store.new()
    assert store.get(user.id) is user
    assert len(store._sessions) == sessions.MAX_SESSIONS


def test_many_login_forms_never_evict_the_owner_link_session():
    store = SessionStore()
    owner = store.new()
    owner.owner_link = True  # opened the owner link, about to type the password
    for _ in range(sessions.MAX_SESSIONS * 3):
        store.new()
    assert store.get(owner.id) is owner


def test_unknown_or_dropped_ids_are_no_session():
    store = SessionStore()
    s = store.new(authenticated=True)
    assert store.get(None) is None and store.get("") is None and store.get("guess") is None
    store.drop(s.id)
    assert store.get(s.id) is None


def test_each_session_has_its_own_csrf_token_and_flash():
    store = SessionStore()
    a, b = store.new(), store.new()
    assert a.csrf != b.csrf and a.id != b.id and len(a.csrf) >= 40
    a.add_flash("ok", "saved")
    assert b.pop_flash() == [] and a.pop_flash() == [("ok", "saved")] and a.pop_flash() == []

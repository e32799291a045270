"""Admin UI first boot, login, throttling, logout and password change (RuntimeControl double)."""
from __future__ import annotations

import asyncio
import re
import stat

import pytest

from apaf.admin import password as pw
from apaf.admin import serve
from apaf.admin.keys import PASSWORDS

from fixtures.admin_ui import RuntimeControlDouble


async def test_password_stored_only_as_scrypt_hash_0600(admin):
    await asyncio.to_thread(admin.client.app[PASSWORDS].wait)  # the first boot's hash thread
    path = admin.data_dir / "admin" / "password"
    content = path.read_text()
    assert content.startswith("scrypt$32768$8$1$")
    assert admin.first_boot_password not in content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert pw.verify(admin.first_boot_password, content)
    assert not pw.verify(admin.first_boot_password + "x", content)


async def test_loose_hash_permissions_tightened_at_start(tmp_path):
    pw.PasswordStore(tmp_path).set("a long password")
    (tmp_path / "admin" / "password").chmod(0o644)
    (tmp_path / "admin").chmod(0o755)
    server = await serve(RuntimeControlDouble(), tmp_path)
    await server.close()
    assert stat.S_IMODE((tmp_path / "admin" / "password").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "admin").stat().st_mode) == 0o700
    assert server.first_boot_password is None  # the existing password is kept


def test_a_password_set_while_the_first_boot_hash_is_written_wins(tmp_path):
    store = pw.PasswordStore(tmp_path)
    store.set_soon("the first-boot password")
    assert store.exists()  # create_app makes no second first-boot password meanwhile
    store.set("the owner's new password")  # waits for the first write: it cannot land after
    assert store.check("the owner's new password")
    assert not store.check("the first-boot password")


def test_hashes_are_salted():
    assert pw.hash_password("same password") != pw.hash_password("same password")


def test_malformed_hash_never_matches():
    for stored in ["", "plain", "scrypt$1$2$3$!!$!!", "md5$1$1$1$AA==$AA=="]:
        assert not pw.verify("anything", stored)


def test_a_planted_empty_key_never_matches_even_a_child_that_answers_nothing(monkeypatch):
    # Both halves of the attack: a hash file with an empty key, and a scrypt child (replaced or
    # broken) whose answer is empty too; equal empty keys must not open the admin UI.
    monkeypatch.setattr(pw, "_scrypt", lambda *args: b"")
    assert not pw.verify("any password at all", "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$")


async def test_one_time_link_shows_password_once(admin):
    url = f"/first-boot/{admin.first_boot_token}"
    r = await admin.client.get(url)
    assert r.status == 200 and admin.first_boot_password in await r.text()
    r = await admin.client.get(url)
    assert r.status == 404 and admin.first_boot_password not in await r.text()


async def test_one_time_link_with_wrong_token_is_404(admin):
    r = await admin.client.get("/first-boot/" + "A" * 43)
    assert r.status == 404 and admin.first_boot_password not in await r.text()


async def test_one_time_link_dead_after_login(admin):
    await admin.login()
    r = await admin.client.get(f"/first-boot/{admin.first_boot_token}")
    assert r.status == 404


async def test_login_with_first_boot_password_opens_status(admin):
    await admin.login()
    r = await admin.client.get("/status")
    assert r.status == 200 and "0.4.9.test" in await r.text()


async def test_login_replaces_session_id(admin):
    await admin.csrf("/login")
    before = {c.key: c.value for c in admin.client.session.cookie_jar}
    await admin.login()
    after = {c.key: c.value for c in admin.client.session.cookie_jar}
    assert before.keys() == after.keys() and before != after


async def test_wrong_password_refused(admin):
    token = await admin.csrf("/login")
    r = await admin.post("/login", {"password": "wrong"}, csrf=token)
    assert r.status == 403 and "Wrong password" in await r.text()
    assert (await admin.client.get("/status", allow_redirects=False)).status == 303


async def test_logout_ends_session(admin):
    token = await admin.login()
    r = await admin.post("/logout", csrf=token)
    assert r.status == 303 and r.headers["Location"] == "/login"
    assert (await admin.client.get("/status", allow_redirects=False)).status == 303


async def test_password_change(admin):
    token = await admin.login()
    new = "correct horse battery"
    r = await admin.post("/password", {"current": admin.first_boot_password, "new": new,
                                       "confirm": new}, csrf=token)
    assert r.status == 303
    page = await (await admin.client.get("/status")).text()
    assert "Password changed" in page
    admin.client.session.cookie_jar.clear()
    token = await admin.csrf("/login")
    r = await admin.post("/login", {"password": admin.first_boot_password}, csrf=token)
    assert r.status == 403
    await admin.login(new)


async def test_password_change_refusals(admin):
    token = await admin.login()
    cases = [({"current": "wrong", "new": "long enough pw", "confirm": "long enough pw"},
              "current password is wrong"),
             ({"current": admin.first_boot_password, "new": "short", "confirm": "short"},
              "at least 10"),
             ({"current": admin.first_boot_password, "new": "long enough pw",
               "confirm": "other long pw"}, "differ")]
    for form, message in cases:
        r = await admin.post("/password", form, csrf=token)
        assert r.status == 400 and message in await r.text()
    await admin.login()  # the first-boot password still works


async def test_password_change_ends_other_sessions(admin, aiohttp_client):
    await admin.login()
    other = await aiohttp_client(admin.client.server,
                                 headers={"Host": f"{admin.host}:{admin.port}"})
    other_h = type(admin)(other, admin.control, admin.data_dir)
    other_h.first_boot_password = admin.first_boot_password
    token = await other_h.login()
    assert (await other.get("/status", allow_redirects=False)).status == 200
    new = "a brand new password"
    await other_h.post("/password", {"current": admin.first_boot_password, "new": new,
                                     "confirm": new}, csrf=token)
    assert (await admin.client.get("/status", allow_redirects=False)).status == 303
    assert (await other.get("/status", allow_redirects=False)).status == 200


async def test_serve_binds_loopback_and_reports_first_boot(tmp_path):
    server = await serve(RuntimeControlDouble(), tmp_path)
    try:
        assert re.fullmatch(r"http://admin-[a-z2-7]{26}\.localhost:\d+/", server.url)
        assert server.listen_url == f"http://127.0.0.1:{server.url.rsplit(':', 1)[1]}"
        assert server.first_boot_url.startswith(server.url + "first-boot/")
        assert len(server.first_boot_password) >= 20
    finally:
        await server.close()
    again = await serve(RuntimeControlDouble(), tmp_path)
    try:
        assert again.first_boot_url is None and again.first_boot_password is None
        assert again.url != server.url  # a fresh secret name every run: nothing on disk
    finally:
        await again.close()


async def test_serve_refuses_non_loopback_host(tmp_path):
    with pytest.raises(ValueError, match="127.0.0.1"):
        await serve(RuntimeControlDouble(), tmp_path, host="0.0.0.0")

"""Server-side sessions for the admin UI: a random id in a cookie, the data in memory.

Why not aiohttp-session: its cookie storages need a long-lived signing/encryption
key (one more secret on disk, one more dependency in every bundle) and cannot
revoke a session on logout; a single-user admin UI needs only a small dict.
Sessions do not survive a runtime restart: the user logs in again.

Every session (also the anonymous one the login form gets) carries its own CSRF
token.  Logging in replaces the session (new id, new token) against fixation.
"""
from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "apaf_admin"
IDLE_SECONDS = 8 * 3600       # a logged-in session ends after this long unused
ANONYMOUS_SECONDS = 3600      # a login form's session
MAX_SESSIONS = 256            # anonymous sessions are cheap to create: bound memory


@dataclass
class Session:
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    authenticated: bool = False
    # Opened the owner link: password checks skip the global delay (throttle.py).
    owner_link: bool = False
    wrong: int = 0  # wrong passwords this session sent while exempt
    # The first-boot password, held until the wizard's first page has shown it once.
    reveal: str | None = None
    # Logged in by the first-boot link: may choose a new password without the old one
    # until the wizard is finished (the generated one may have scrolled away unsaved).
    first_run: bool = False
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    seen: float = field(default_factory=time.monotonic)

    def add_flash(self, kind: str, message: str) -> None:
        self.flash.append((kind, message))

    def pop_flash(self) -> list[tuple[str, str]]:
        messages, self.flash = self.flash, []
        return messages


class SessionStore:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def _expired(self, s: Session) -> bool:
        limit = IDLE_SECONDS if s.authenticated else ANONYMOUS_SECONDS
        return self._clock() - s.seen > limit

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, refreshed; None when unknown or expired."""
        s = self._sessions.get(session_id or "")
        if s is None:
            return None
        if self._expired(s):
            del self._sessions[s.id]
            return None
        s.seen = self._clock()
        self._sessions.move_to_end(s.id)
        return s

    def new(self, *, authenticated: bool = False) -> Session:
        s = Session(authenticated=authenticated, seen=self._clock())
        self._sessions[s.id] = s
        while len(self._sessions) > MAX_SESSIONS:
            # Evict the least recently used session: plain anonymous ones first, so a
            # flood of login forms cannot push out the owner's owner-link session.
            victim = next((k for k, v in self._sessions.items()
                           if not v.authenticated and not v.owner_link),
                          next(iter(self._sessions)))
            del self._sessions[victim]
        return s

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def drop_all(self) -> None:
        """End every session (after a password change, except the caller's new one)."""
        self._sessions.clear()

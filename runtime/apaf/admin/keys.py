"""Typed application and request keys shared by the admin UI's modules."""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from .control import RuntimeControl
from .firstrun import FirstRun
from .password import PasswordStore
from .sessions import Session, SessionStore
from .throttle import LoginThrottle


@dataclass
class FirstBoot:
    """The generated password, shown once through the one-time link, then forgotten."""

    token: str
    password: str | None
    used: bool = field(default=False)


@dataclass
class Launch:
    """The one-time link the runtime opens the user's browser on (``/open/<token>``).

    It answers on the plain 127.0.0.1 address (it goes through a browser's command
    line, which other local programs can read) and carries no secret but itself:
    used once, it redirects to the secret admin address and is dead from then on.
    Another local account that reads it there is refused without using it (peer.py).
    """

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    used: bool = False


@dataclass(frozen=True)
class Origins:
    """The admin UI's secret loopback name and port: the only Host and Origin accepted.

    Cookies are scoped by host name, not port, so a session cookie set on
    127.0.0.1 reaches every app's local port (and anything else listening on
    loopback).  The admin UI therefore lives on ``admin-<128 random bits>.localhost``,
    a name Chromium and Firefox resolve to loopback themselves: the cookie only goes
    to that name, and only someone who knows it can steer the browser there.  The
    name is made per run and kept in memory and in the printed URL only (never in
    the status file, process arguments or environment an app can read).
    """

    port: int
    name: str = field(default_factory=lambda: new_name())

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset({f"{self.name}:{self.port}"})

    @property
    def url(self) -> str:
        return f"http://{self.name}:{self.port}/"

    @property
    def cookie(self) -> str:
        # Per port too: two runtimes on one machine never overwrite each other's.
        return f"apaf_admin_{self.port}"


def new_name() -> str:
    """A fresh ``admin-<26 base32 characters>.localhost`` (128 bits, DNS-safe)."""
    label = base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()
    return f"admin-{label}.localhost"


CONTROL = web.AppKey("control", RuntimeControl)
PASSWORDS = web.AppKey("passwords", PasswordStore)
SESSIONS = web.AppKey("sessions", SessionStore)
THROTTLE = web.AppKey("throttle", LoginThrottle)
ORIGINS = web.AppKey("origins", Origins)
FIRST_BOOT = web.AppKey("first_boot", FirstBoot)
LAUNCH = web.AppKey("launch", Launch)
FIRST_RUN = web.AppKey("first_run", FirstRun)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# One-time links refused to another account, newest last (peer.py), for the status page.
REFUSED_LINKS = web.AppKey("refused_links", list)

# Set by the session middleware on every request (None: no live session).
SESSION = web.RequestKey("session", Session | None)

"""Typed application and request keys shared by the admin UI's modules."""
from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from .control import RuntimeControl
from .password import PasswordStore
from .sessions import Session, SessionStore
from .throttle import LoginThrottle


@dataclass
class FirstBoot:
    """The generated password, shown once through the one-time link, then forgotten."""

    token: str
    password: str | None
    used: bool = field(default=False)


@dataclass(frozen=True)
class Origins:
    """What the Host and Origin headers may be: loopback names with the admin port."""

    port: int
    hosts: frozenset[str]

    @classmethod
    def for_port(cls, port: int) -> "Origins":
        names = ("127.0.0.1", "localhost", "[::1]")
        return cls(port, frozenset(f"{n}:{port}" for n in names))

    @property
    def cookie(self) -> str:
        # Cookies ignore ports: name ours per port so two runtimes (or a local app
        # setting its own cookies on 127.0.0.1) never overwrite each other's.
        return f"apaf_admin_{self.port}"


CONTROL = web.AppKey("control", RuntimeControl)
PASSWORDS = web.AppKey("passwords", PasswordStore)
SESSIONS = web.AppKey("sessions", SessionStore)
THROTTLE = web.AppKey("throttle", LoginThrottle)
ORIGINS = web.AppKey("origins", Origins)
FIRST_BOOT = web.AppKey("first_boot", FirstBoot)
TEMPLATES = web.AppKey("templates", jinja2.Environment)

# Set by the session middleware on every request (None: no live session).
SESSION = web.RequestKey("session", Session | None)

"""The admin UI's application factory.

``create_app(control, data_dir, port=P)`` builds the aiohttp app; ``port`` is the
port it will be served on (Host/Origin checks need it).  ``name`` is the secret
loopback host name it answers to (a fresh one when omitted: ``app[ORIGINS].url``);
``announce(line)`` is called with the owner link when login throttling engages
(print it where only the owner sees it: the terminal).  When no password hash
exists yet it creates one from a random password and keeps that password in
memory for the one-time first-boot link (``app[FIRST_BOOT]``); that hash is written by
a thread (``app[PASSWORDS].wait()`` returns once it is on disk; password.py says why).
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Callable

from aiohttp import web

from . import password as pw
from .control import RuntimeControl
from .firstrun import FirstRun
from .keys import (CONTROL, FIRST_BOOT, FIRST_RUN, LAUNCH, ORIGINS, PASSWORDS, REFUSED_LINKS, SESSIONS,
                   TEMPLATES, THROTTLE)
from .keys import FirstBoot, Launch, Origins
from .render import environment, error_pages
from .routes import setup_routes
from .security import (add_security_headers, check_csrf, check_host, check_origin,
                       load_session, require_login)
from .sessions import SessionStore
from .throttle import LoginThrottle, scale_from_env

# Forms are small; the torrc editor is the largest (64 KiB, checked in its view).
MAX_REQUEST_BYTES = 256 * 1024
# Outermost first; a foreign Host gets a bare refusal, every later one a page.
MIDDLEWARES = [check_host, error_pages, check_origin, load_session, check_csrf, require_login]


def create_app(control: RuntimeControl, data_dir: Path, *, port: int, name: str | None = None,
               announce: Callable[[str], None] | None = None) -> web.Application:
    if not 0 < port < 65536:
        raise ValueError(f"admin port must be 1-65535, got {port}: bind the socket first")
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=MAX_REQUEST_BYTES)
    app[CONTROL] = control
    app[PASSWORDS] = store = pw.PasswordStore(Path(data_dir))
    app[SESSIONS] = SessionStore()
    app[ORIGINS] = origins = Origins(port, name) if name else Origins(port)
    app[LAUNCH] = Launch()
    app[FIRST_RUN] = FirstRun(Path(data_dir))
    app[REFUSED_LINKS] = []

    def owner_link(token: str) -> None:
        if announce is not None:
            announce(f"{origins.url}login/owner/{token}")

    app[THROTTLE] = LoginThrottle(scale=scale_from_env(), announce=owner_link)
    app[TEMPLATES] = environment()
    store.tighten()
    if not store.exists():
        password = pw.generate()
        store.set_soon(password)  # hashed in a thread: serve() waits for it after listening
        app[FIRST_BOOT] = FirstBoot(token=secrets.token_urlsafe(32), password=password)
    app.on_response_prepare.append(add_security_headers)
    setup_routes(app)
    return app

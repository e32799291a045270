"""Serve the admin UI on a loopback port (never through an onion service).

``await serve(control, data_dir, port=0)`` binds 127.0.0.1 (a free port when 0),
starts serving and returns an ``AdminServer``: ``.url`` (on the run's secret
``admin-….localhost`` name: print it to the owner only), ``.listen_url`` (the plain
127.0.0.1 address, safe to show to apps: it only says to use the printed URL),
``.first_boot_url`` and ``.first_boot_password`` (both None unless this run created
the password; print them once), ``.launch_url`` (a one-time link on the plain address
that redirects to the secret one: what the browser is opened on), ``await .close()``.  ``announce(line)`` receives
the owner link when login throttling engages (see throttle.py).
"""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from aiohttp import web

from apaf.timeline import mark

from .app import create_app
from .control import RuntimeControl
from .keys import FIRST_BOOT, LAUNCH, ORIGINS, PASSWORDS

LOOPBACK = {"127.0.0.1": socket.AF_INET, "::1": socket.AF_INET6}


@dataclass
class AdminServer:
    url: str
    listen_url: str
    first_boot_url: str | None
    first_boot_password: str | None
    launch_url: str             # one-time, on the plain address: what the browser is opened on
    app: web.Application
    _runner: web.AppRunner

    async def close(self) -> None:
        await self._runner.cleanup()


async def serve(control: RuntimeControl, data_dir: Path, host: str = "127.0.0.1",
                port: int = 0, announce: Callable[[str], None] | None = None) -> AdminServer:
    if host not in LOOPBACK:
        raise ValueError(f"admin UI host {host!r} refused: it listens on 127.0.0.1 or ::1 "
                         "only, so nothing but this computer can reach it")
    # Bind first: the app's Host/Origin checks need the real port when port=0.
    sock = socket.socket(LOOPBACK[host], socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"cannot listen on {host}:{port} for the admin UI: "
                                 f"{err.strerror}; choose another --admin-port") from err
    port = sock.getsockname()[1]
    app = create_app(control, Path(data_dir), port=port, announce=announce)
    # No access log: the first-boot link carries a secret in its path.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    mark("admin-ready")  # the login page answers from here on
    try:
        # A first boot's password hash, written by a thread meanwhile: an error (a full disk)
        # still stops the start, as it did when the hash was written before listening.
        await asyncio.to_thread(app[PASSWORDS].wait)
    except BaseException:
        await runner.cleanup()
        raise
    url = app[ORIGINS].url
    boot = app.get(FIRST_BOOT)
    return AdminServer(
        url=url, listen_url=f"http://{'[::1]' if host == '::1' else host}:{port}/",
        first_boot_url=f"{url}first-boot/{boot.token}" if boot else None,
        first_boot_password=boot.password if boot else None,
        launch_url=f"http://{'[::1]' if host == '::1' else host}:{port}/open/{app[LAUNCH].token}",
        app=app, _runner=runner)

"""Serve the admin UI on a loopback port (never through an onion service).

``await serve(control, data_dir, port=0)`` binds 127.0.0.1 (a free port when 0),
starts serving and returns an ``AdminServer``: ``.url``, ``.first_boot_url`` and
``.first_boot_password`` (both None unless this run created the password; print
them once), ``await .close()``.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .app import create_app
from .control import RuntimeControl
from .keys import FIRST_BOOT

LOOPBACK = {"127.0.0.1": socket.AF_INET, "::1": socket.AF_INET6}


@dataclass
class AdminServer:
    url: str
    first_boot_url: str | None
    first_boot_password: str | None
    app: web.Application
    _runner: web.AppRunner

    async def close(self) -> None:
        await self._runner.cleanup()


async def serve(control: RuntimeControl, data_dir: Path, host: str = "127.0.0.1",
                port: int = 0) -> AdminServer:
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
    app = create_app(control, Path(data_dir), port=port)
    # No access log: the first-boot link carries a secret in its path.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    url = f"http://{'[::1]' if host == '::1' else host}:{port}/"
    boot = app.get(FIRST_BOOT)
    return AdminServer(
        url=url,
        first_boot_url=f"{url}first-boot/{boot.token}" if boot else None,
        first_boot_password=boot.password if boot else None,
        app=app, _runner=runner)

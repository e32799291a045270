"""How an app process gets its listening socket and says it is up; one class per kind of host.

    listener = platform_module().listener()    # apaf.sandbox: the one place that picks
    listener.host, listener.port                # kept for the runtime's life (the onion maps to it)
    env, fds = listener.child()                 # before each app process: its env and pass_fds
    listener.spawned()                          # after it started
    await listener.ready()                      # True once it serves (poll until it exits/times out)
    listener.close()                            # the app is removed or the runtime stops

InheritedSocket (Linux, macOS): the runtime binds a loopback address on an ephemeral port once
and keeps the socket; each app process inherits it (APAF_LISTEN_FD) and a pipe to say it is ready
(APAF_READY_FD). The port is never free, so no other local user can take it between two app
processes (it was: a squatter bound it while the app restarted and got the onion's visitors),
and a connection made during a restart waits in the backlog.

On Linux that address is a random one of 127.0.0.0/8 (unguessable_loopback): a web page open
in the owner's browser can request http://127.0.0.1:PORT/ for every port and, by loading an
image or a script the onion site serves, learn that this machine serves it. Among 2^24
addresses times ~28,000 ports, nothing is found by scanning. macOS answers on 127.0.0.1 only.

OwnPort (Windows: a socket cannot be handed to a child by number): the app binds APAF_PORT
itself and is ready once the port accepts; the gap between two app processes remains there.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import secrets
import socket

from apaf.listen import LISTEN_FD, READY_FD

BACKLOG = 1024  # connections that wait while the app restarts
log = logging.getLogger(__name__)


def unguessable_loopback() -> str:
    """One of 127.1.0.1-127.254.255.254, at random (Linux answers on all of 127.0.0.0/8)."""
    return f"127.{1 + secrets.randbelow(254)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


class InheritedSocket:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket()
        try:
            self.sock.bind((host, 0))
        except OSError as err:
            if err.errno != errno.EADDRNOTAVAIL or host == "127.0.0.1":
                raise
            log.warning("cannot bind %s (%s): the app listens on 127.0.0.1, where a web page in "
                        "this machine's browser can find it by trying ports", host, err.strerror)
            self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(BACKLOG)
        self.host: str
        self.host, self.port = self.sock.getsockname()[:2]
        self._read = self._write = -1

    def child(self) -> tuple[dict[str, str], tuple[int, ...]]:
        self._close_pipe()
        self._read, self._write = os.pipe()  # not inheritable: only through pass_fds
        os.set_blocking(self._read, False)
        fd = self.sock.fileno()
        return {LISTEN_FD: str(fd), READY_FD: str(self._write)}, (fd, self._write)

    def spawned(self) -> None:
        # Ours closed, the app's copy is the only writer: its exit ends the pipe.
        os.close(self._write)
        self._write = -1

    async def ready(self) -> bool:
        try:
            return os.read(self._read, 1) != b""
        except BlockingIOError:
            return False

    def close(self) -> None:
        self._close_pipe()
        self.sock.close()

    def _close_pipe(self) -> None:
        for fd in (self._read, self._write):
            if fd >= 0:
                os.close(fd)
        self._read = self._write = -1


class OwnPort:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        with socket.socket() as s:
            s.bind((self.host, 0))
            self.port: int = s.getsockname()[1]

    def child(self) -> tuple[dict[str, str], tuple[int, ...]]:
        return {}, ()

    def spawned(self) -> None:
        pass

    async def ready(self) -> bool:
        try:
            _, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return False
        writer.close()
        return True

    def close(self) -> None:
        pass

"""The app's side of its listening socket: the runtime binds it, the app only accepts on it.

The runtime binds APAF_BIND_HOST:APAF_PORT (on Linux a random 127.x.y.z) once and keeps it open
for its whole life; each app process (every restart) inherits it as file descriptor
APAF_LISTEN_FD, so the port is never free for another local program to take, and connections
made while the app restarts wait in the backlog. The sandbox refuses any bind to an app, its
own port included.

    sock = apaf.listening_socket()   # serve on it: web.run_app(app, sock=sock), ...

Taking the socket also tells the runtime the app is up (one byte on APAF_READY_FD): until
then `apaf run` waits, and reports the app's log if it exits first.
"""
from __future__ import annotations

import os
import socket

from apaf.errors import NotUnderRuntime

LISTEN_FD = "APAF_LISTEN_FD"
READY_FD = "APAF_READY_FD"

_taken: socket.socket | None = None


def listening_socket(*, ready: bool = True) -> socket.socket:
    """The listening socket the runtime holds for this app (APAF_LISTEN_FD), blocking.

    ready=False leaves telling the runtime to the caller (`mark_ready()`), for a server that has
    start-up work to do before it accepts. Raises NotUnderRuntime outside `apaf run`.
    """
    global _taken
    if _taken is None:
        value = os.environ.get(LISTEN_FD, "")
        if not value.isdigit():
            raise NotUnderRuntime(
                f"{LISTEN_FD} is not set: this app was not started by `apaf run`, which holds its "
                "listening socket; start it with `apaf run APP_DIR` (apps cannot bind a port themselves)")
        # Family and type given: the sandbox's refusal logger sees the TCP socket it is.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, int(value))
        sock.set_inheritable(False)  # not for the programs the app runs
        sock.setblocking(True)  # a previous app process may have left the shared socket non-blocking
        _taken = sock
    if ready:
        mark_ready()
    return _taken


def app_socket(host: str, port: int) -> socket.socket:
    """For the bundled servers: the inherited socket under `apaf run`; else (a test, `python -m
    apaf.staticsite`, a platform that cannot hand sockets over) a new one on host:port."""
    if os.environ.get(LISTEN_FD):
        return listening_socket(ready=False)
    return socket.create_server((host, port), backlog=1024)


def mark_ready() -> None:
    """Tell the runtime this app is serving (once; nothing to do outside the runtime)."""
    fd = os.environ.pop(READY_FD, "")
    if not fd.isdigit():
        return
    try:
        os.write(int(fd), b"1")
    except OSError:
        pass  # the runtime is gone or stopped waiting: the app exits with it
    finally:
        # Closed even then: else the app's programs (run-binaries) inherit it.
        os.close(int(fd))

"""How a tor we start learns that we died, from its first instant; one class per kind of host.

    link = platform_module().tor_owner()   # apaf.sandbox: the one place that picks
    proc = await start_owned(link, [tor, "-f", torrc, ...], stdout=..., env=...)
    link.alive()                           # False once tor has died (where it can tell)
    link.close()                           # tor exits (if it still runs)

`__OwningControllerProcess` alone is polled by tor every 15 s (src/lib/evloop/procmon.c), and
TAKEOWNERSHIP only helps once the control port answers: a runtime killed in between (0.1-0.5 s
of every start, more under load) left its tor running for up to 15 s, holding the data folder.

OwnerSocket (Linux, macOS): one end of a socketpair goes to tor as `__OwningControllerFD`,
which tor adds as an authenticated control connection that owns it. We never write to it;
when our end closes, by close() or because the kernel closed it after a SIGKILL, tor exits
at once.

OwnerPid (Windows: a socket cannot be handed to a child by number): nothing added; tor polls
`__OwningControllerProcess` and TAKEOWNERSHIP covers it once the control port is up.

A link may carry `preexec`, run in the child before tor is executed: Linux under a root
runtime drops every capability there (apaf.sandbox.linux.tor_child_setup).
"""
from __future__ import annotations

import asyncio
import socket


async def start_owned(link, argv: list[str], **kwargs) -> asyncio.subprocess.Process:
    """asyncio.create_subprocess_exec of tor's argv with the link's arguments and fd added."""
    args, fds = link.child()
    if link.preexec is not None:
        kwargs["preexec_fn"] = link.preexec
    try:
        return await asyncio.create_subprocess_exec(*argv, *args, pass_fds=fds, **kwargs)
    finally:
        link.spawned()


class OwnerSocket:
    def __init__(self, preexec=None) -> None:
        self.preexec = preexec
        self._ours: socket.socket | None = None
        self._theirs: socket.socket | None = None

    def child(self) -> tuple[list[str], tuple[int, ...]]:
        self.close()  # a new tor, a new link: the old tor's end goes with it
        self._ours, self._theirs = socket.socketpair()  # not inheritable: only through pass_fds
        fd = self._theirs.fileno()
        return ["__OwningControllerFD", str(fd)], (fd,)

    def spawned(self) -> None:
        if self._theirs is not None:  # tor holds its copy; ours must not keep the link alive
            self._theirs.close()
            self._theirs = None

    def alive(self) -> bool:
        """False once tor has exited: the kernel closed its end, ours reads EOF (tor never
        writes on this link). Non-blocking; the SOCKS relay asks before using a connection."""
        if self._ours is None:
            return False
        try:
            return self._ours.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def close(self) -> None:
        for sock in (self._ours, self._theirs):
            if sock is not None:
                sock.close()
        self._ours = self._theirs = None


class OwnerPid:
    preexec = None

    def child(self) -> tuple[list[str], tuple[int, ...]]:
        return [], ()

    def spawned(self) -> None:
        pass

    def alive(self) -> bool:
        return True  # cannot tell without waiting: the child watcher says when tor exits

    def close(self) -> None:
        pass

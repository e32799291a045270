"""Notice an SSH link that went silently dead (no FIN, no RST) within a bounded time.

paramiko's own keepalive asks for no answer, and reads on a channel have no
timeout, so a link whose packets vanish (a NAT that forgot the flow, a cable
pulled on the far side of a router) looks exactly like a step that is quiet
for a long time, until TCP gives up after many minutes. This watch does what
OpenSSH's ServerAliveInterval does: it sends a global request that wants a
reply every `timeout / 3` seconds; any SSH server answers one at once (OpenSSH
with "request failed", which is still an answer), however busy or quiet the
step. A request left unanswered for `2 * timeout / 3` seconds while no other
byte arrived either closes the transport, which ends every blocked read,
channel open and SFTP call, so the caller sees a lost link and retries. A
link that goes silent is therefore declared dead between 2/3 of `timeout`
and `timeout` seconds later. Bytes still arriving count as life: on a slow
uplink our request may wait behind megabytes of our own upload.

Hand-written because paramiko offers no answered keepalive; it is built only
on public paramiko calls (`global_request`, `is_active`, `close`).
"""
from __future__ import annotations

import threading
import time

KEEPALIVE = "keepalive@openssh.com"   # the request OpenSSH's own client sends for this


class CountingSocket:
    """A connected socket that counts the bytes it receives, for paramiko (`connect(sock=...)`)."""

    def __init__(self, sock):
        self._sock = sock
        self.received = 0

    def recv(self, n: int, *flags) -> bytes:
        data = self._sock.recv(n, *flags)
        self.received += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


class LinkWatch(threading.Thread):
    """Watches one paramiko Transport; `dead` holds why it was closed, or None while it lives.

    `received()` returns a count of bytes received so far (CountingSocket.received).
    """

    def __init__(self, transport, timeout: float, name: str = "ssh", received=lambda: 0):
        super().__init__(daemon=True, name=f"linkwatch-{name}")
        self.transport = transport
        self.timeout = timeout
        self.received = received
        self.dead: str | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        interval = self.timeout / 3
        while not self._stopped.wait(interval):
            if not self.transport.is_active():
                return
            asked = time.monotonic()
            answered = threading.Event()
            # global_request(wait=True) has no timeout of its own: it is asked in a
            # helper thread and given up on here; closing the transport ends it.
            threading.Thread(target=self._ask, args=(answered,), daemon=True,
                             name=f"{self.name}-ask").start()
            seen = self.received()
            while not answered.wait(self.timeout - interval):
                if self._stopped.is_set() or not self.transport.is_active():
                    return
                if self.received() != seen:   # alive; the answer is queued behind other traffic
                    seen = self.received()
                    continue
                self.dead = (f"the link went silent: nothing arrived and a keepalive got no answer in "
                             f"{time.monotonic() - asked:.0f} s (link_timeout = {self.timeout:g} s)")
                self.transport.close()
                return

    def _ask(self, answered: threading.Event) -> None:
        try:
            self.transport.global_request(KEEPALIVE, wait=True)
        except Exception:  # the transport went away under the request: its owner sees that itself
            return
        answered.set()

    def stop(self) -> None:
        self._stopped.set()

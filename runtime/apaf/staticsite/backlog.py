"""One budget for the bytes a process has written to all its connections that the kernel has
not taken yet (asyncio keeps them in each transport's buffer until the peer reads).

    backlog.add(transport, drop)   # connection_made; drop(unsent) ends that connection
    backlog.charge(transport)      # after each write to it
    backlog.remove(transport)      # connection_lost

Each connection's own bound (a websocket's MAX_BUFFERED, an HTTP answer's flow control) is not
enough in sum: measured against the chat, 512 websockets that never read held 507 MiB of
broadcasts (RSS 29 -> 568 MiB) with each one under its 1 MiB.  The sum of all backlogs stays
under LIMIT: when a write takes it past, the connections with the largest backlogs (the peers
that read slowest, or not at all) are dropped until it is back under LOW, so a flood of
non-readers costs them their connections, not the process its memory, and readers that keep up
(whose backlog is near zero) are never picked.

LIMIT, 16 MiB: an app process is meant to use ~25 MB, and this is what it may hold unsent on
top, while leaving each of 512 websockets 32 KiB (ten chat messages) behind beyond what the
kernel and tor already hold for it, or 16 peers at their own 1 MiB at once.  Measured with the
same 512-socket flood: at most 15.8 MiB unsent; the chat's RSS peaked at 85 MiB (the
allocator's churn while ~500 peers were shed) and stayed at 41-53 MiB while the flood went on.  Dropping down to
LOW (3/4 of it) rather than just under LIMIT means the next recount is at least 4 MiB of writes
away: a flood does not turn every write into a walk over all connections.

Cost: the total is kept from each transport's size when it was last written to (or resumed).
Buffers shrink without telling us, so that total only errs high; when it passes LIMIT every
size is read again (at most 1024 connections) before anyone is dropped.
"""
from __future__ import annotations

import asyncio

from apaf import memory

LIMIT = 16 << 20
LOW = LIMIT * 3 // 4
# What dropped peers held is free but stays in glibc's heap: after 512 websockets were shed,
# the chat sat at 78 MiB of RSS with none open, 28 MiB after malloc_trim.  This long after a
# drop it goes back to the system (once per TRIM_AFTER at most: a trim walks the heap).
TRIM_AFTER = 1.0


class Budget:
    def __init__(self, limit: int = LIMIT, low: int = LOW):
        self.limit = limit
        self.low = low
        self.total = 0       # sum of self._sizes: at least what is really unsent
        self._sizes = {}     # transport -> its write buffer's size when last seen
        self._drops = {}     # transport -> drop(unsent: int)
        self._trim = None    # the pending memory.trim() after drops

    def add(self, transport, drop) -> None:
        self._sizes[transport] = 0
        self._drops[transport] = drop

    def remove(self, transport) -> None:
        self.total -= self._sizes.pop(transport, 0)
        self._drops.pop(transport, None)

    def charge(self, transport) -> None:
        """Account for what transport holds now; over the limit, drop the largest backlogs."""
        old = self._sizes.get(transport)
        if old is None:
            return  # not one of ours (or already dropped)
        new = transport.get_write_buffer_size()
        self._sizes[transport] = new
        self.total += new - old
        if self.total > self.limit:
            self._shed()

    def _shed(self) -> None:
        sizes = self._sizes
        for t in sizes:
            sizes[t] = t.get_write_buffer_size()
        self.total = sum(sizes.values())
        if self.total <= self.limit:
            return  # only the estimate was over: buffers had drained meanwhile
        for t in sorted(sizes, key=sizes.get, reverse=True):
            if self.total <= self.low:
                break
            unsent = sizes[t]
            drop = self._drops[t]
            self.remove(t)
            drop(unsent)
        self._trim_later()

    def _trim_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing serves, nothing to give back
            return
        if self._trim is None:  # at most one a TRIM_AFTER, however many drops
            self._trim = loop.call_later(TRIM_AFTER, self._trimmed)

    def _trimmed(self) -> None:
        self._trim = None
        memory.trim()


BUDGET = Budget()


def add(transport, drop) -> None:
    BUDGET.add(transport, drop)


def remove(transport) -> None:
    BUDGET.remove(transport)


def charge(transport) -> None:
    BUDGET.charge(transport)

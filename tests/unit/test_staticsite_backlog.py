"""apaf.staticsite.backlog: one budget for what all connections hold unsent; past it the
largest backlogs go.  Transports here are stand-ins whose buffer size the test sets; the real
server under the budget is in test_staticsite_server.py and test_websocket.py (which use the
helpers at the end).  Instant.
"""
import asyncio
import gc
import socket
from asyncio.selector_events import _SelectorSocketTransport

from apaf.staticsite.backlog import Budget


class Peer:
    """A transport holding `size` unsent bytes; drop() empties it, as abort() does."""

    def __init__(self, budget, size=0):
        self.size = size
        self.dropped = None
        budget.add(self, self.drop)

    def get_write_buffer_size(self):
        return self.size

    def drop(self, unsent):
        self.dropped = unsent
        self.size = 0


def test_past_the_limit_the_largest_backlogs_go_until_it_is_back_under_low():
    budget = Budget(limit=1000, low=750)
    readers = [Peer(budget, 10) for _ in range(5)]
    slow = [Peer(budget, 300), Peer(budget, 200), Peer(budget, 250)]
    for p in readers + slow:
        budget.charge(p)
    assert budget.total == 800 and all(p.dropped is None for p in readers + slow)
    slow[1].size = 450  # 1050 in all
    budget.charge(slow[1])
    assert [p.dropped for p in slow] == [None, 450, None]  # 600 left: under 750
    assert budget.total == 600 and all(p.dropped is None for p in readers)
    slow[0].size, slow[2].size = 500, 500  # 1050 again: 500 + 500 + 50 -> one 500 goes
    budget.charge(slow[0])
    budget.charge(slow[2])
    assert sum(p.dropped is not None for p in slow) == 2 and budget.total == 550


def test_an_estimate_over_the_limit_from_drained_buffers_drops_no_one():
    budget = Budget(limit=1000, low=750)
    a, b = Peer(budget, 900), Peer(budget)
    budget.charge(a)
    a.size = 0  # drained, and nothing told the budget
    b.size = 200
    budget.charge(b)  # the estimate says 1100: recounted, 200 is fine
    assert a.dropped is None and b.dropped is None and budget.total == 200


def test_a_removed_connection_no_longer_counts_and_unknown_ones_are_ignored():
    budget = Budget(limit=1000, low=750)
    a = Peer(budget, 900)
    budget.charge(a)
    budget.remove(a)
    stranger = Peer(Budget(), 5000)
    budget.charge(stranger)  # not registered with this budget
    assert budget.total == 0 and stranger.dropped is None


# --- helpers for the server tests ----------------------------------------------------------
def small_buffer_listener(sndbuf=8192):
    """A listening socket whose connections' kernel send buffers stay small (accepted sockets
    inherit SO_SNDBUF), so what a peer does not read shows up in the process at once rather than
    after the megabytes Linux's autotuning would otherwise queue on loopback."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    return sock


def non_reader(port, request):
    """A client socket that sends request and reads nothing (a small receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request)
    return sock


def unsent(port):
    """Bytes this process holds unsent in the server's connections on port."""
    gc.collect()
    return sum(t.get_write_buffer_size() for t in gc.get_objects()
               if isinstance(t, _SelectorSocketTransport) and not t.is_closing()
               and t.get_extra_info("sockname")[1] == port)


async def served_to_end(sock, idle=1.0):
    """Bytes sock gets, read now, until the server ends the connection (EOF or reset) or
    sends nothing for `idle` seconds."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    got = 0
    try:
        while data := await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), idle):
            got += len(data)
    except (ConnectionResetError, TimeoutError):
        pass
    return got

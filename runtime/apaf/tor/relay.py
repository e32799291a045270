"""The SOCKS port apps are given: a loopback TCP relay the runtime holds for its whole life.

    relay = SocksRelay.bind()          # 127.0.0.1:P is ours from here on (apps get P)
    await relay.start()                # accept; connections wait until a backend is set
    relay.set_backend(9051)            # tor's own SOCKS listener (`SocksPort 127.0.0.1:auto`)
    relay.set_backend(None)            # tor is down or restarting: new connections wait
    await relay.close()

Why (apaf/tor/README.md): tor cannot inherit a listening socket, so if tor bound P itself,
P would be free for a moment at every tor restart and another local user could take it and
receive every app's "connection over Tor". The relay never lets P go; tor binds a fresh
port of its own (no window), read back after each start.

A connection to tor's port is used only if tor is still alive once it is made (`tor_alive`:
tor can die, and another user bind its old port, before we see the exit). A connection
accepted while no backend is set waits up to `wait_for_tor` seconds, then is
closed (the client's SOCKS handshake fails: it sees EOF). A client that sends nothing within
GREETING_TIMEOUT once it is being read is closed, so idle sockets cannot keep slots. At most
`max_connections` are relayed at once (from the fd limit, raised to its hard limit by
bind()); more are closed at once. Bytes are copied with asyncio flow control (a side whose
peer cannot keep up stops being read), so nothing is buffered without bound.
A client's EOF is passed to tor as a half-close; tor's EOF ends the stream (tor never
half-closes one it still uses). Once a side has closed, the other gets FLUSH_TIMEOUT to send
what it holds, and the pair counts against `max_connections` until both are closed: a peer
that never reads cannot pile up fds.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable

log = logging.getLogger("apaf.tor.relay")

# Each relayed connection holds 2 of the runtime's fds (and one of tor's); the rest of the
# runtime (apps' sockets, web visitors) needs fds too, so the relay takes at most a quarter.
MAX_CONNECTIONS = 4096
# tor itself allows a SOCKS client ~120 s for its greeting; ours need well under a second.
GREETING_TIMEOUT = 20.0
WAIT_FOR_TOR = 15.0  # a crashed tor is restarted after 0.5 s and opens its SOCKS port in ~1 s
# Per direction at most WRITE_HIGH_WATER + READ_CHUNK is queued in our process before the
# source is paused (asyncio's own reads are up to 256 KiB: 320 KiB per direction before, and
# 256 stalled pairs took the runtime from 25 to 135 MB RSS). Bytes are read into one buffer
# per relay, so an idle or stalled connection holds no read buffer of its own.
READ_CHUNK = 32 * 1024
WRITE_HIGH_WATER = 32 * 1024
# One side has closed: the other gets this long to send what it still holds, then is aborted.
# tor stops reading a stream whose destination does not read, and a client may never read.
FLUSH_TIMEOUT = 10.0


class SocksRelay:
    def __init__(self, sock: socket.socket, *, max_connections: int | None = None,
                 wait_for_tor: float = WAIT_FOR_TOR,
                 tor_alive: Callable[[], bool] = lambda: True):
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        self.max_connections = max_connections or min(MAX_CONNECTIONS, _fd_limit() // 4)
        self.wait_for_tor = wait_for_tor
        self.tor_alive = tor_alive
        self._backend: int | None = None
        self._generation = 0  # bumped on every set_backend: a connect that straddles one is dropped
        self._ready = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self._pairs: set[_Pair] = set()
        self._pending: set[asyncio.Task] = set()
        self._refused_logged = False
        self._read_buffer = memoryview(bytearray(READ_CHUNK))

    @classmethod
    def bind(cls, host: str = "127.0.0.1", **kwargs) -> "SocksRelay":
        """Bind a free loopback port now and keep it (until close())."""
        if host != "127.0.0.1":  # tor's own listener is there too; apps get "IP:PORT" as is
            raise ValueError(f"the SOCKS relay listens on loopback only (127.0.0.1), not {host!r}")
        _raise_fd_limit()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # No SO_REUSEADDR: a port bound once and kept has no TIME_WAIT to reuse, and on
            # Windows the option means "share this port" to the next socket that sets it.
            sock.bind((host, 0))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return cls(sock, **kwargs)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def backend(self) -> int | None:
        return self._backend

    @property
    def active(self) -> int:
        """Connections accepted and not yet closed (waiting for tor or relayed)."""
        return len(self._pairs)

    def set_backend(self, port: int | None) -> None:
        """Relay new connections to 127.0.0.1:`port` (tor's SOCKS listener); None: hold them."""
        if port == self._backend:
            return  # connects under way to the same listener stay valid
        self._backend = port
        self._generation += 1
        if port is None:
            self._ready.clear()
        else:
            self._ready.set()

    async def start(self) -> None:
        if self._server is None:
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(lambda: _Client(self), sock=self._sock)

    async def close(self) -> None:
        """Stop listening (the port is released only now) and drop every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        else:
            self._sock.close()
        self.set_backend(None)
        for task in list(self._pending):
            task.cancel()
        for pair in list(self._pairs):
            pair.abort()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    # -- internals ----------------------------------------------------------------------
    def _accepted(self, pair: "_Pair") -> bool:
        if len(self._pairs) >= self.max_connections:
            if not self._refused_logged:
                log.warning("more than %d connections to the Tor SOCKS port at once; closing "
                            "new ones until some end", self.max_connections)
                self._refused_logged = True
            return False
        self._pairs.add(pair)
        task = asyncio.get_running_loop().create_task(self._connect(pair))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def _connect(self, pair: "_Pair") -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(self._ready.wait(), self.wait_for_tor)
            port, generation = self._backend, self._generation
            if port is None:
                raise ConnectionError("tor went away again")
            await loop.create_connection(lambda: _Backend(pair), "127.0.0.1", port)
            # tor died or restarted while we connected: its old port may be someone else's now.
            if generation != self._generation or not self.tor_alive():
                raise ConnectionError("tor exited during the connect")
        except (asyncio.TimeoutError, OSError) as err:
            log.info("closing a SOCKS client: tor's SOCKS port is not available (%s)",
                     err or "tor did not come back in time")
            pair.refuse()
            return
        pair.connected()

    def _gone(self, pair: "_Pair") -> None:
        self._pairs.discard(pair)
        if len(self._pairs) < self.max_connections:
            self._refused_logged = False


def _fd_limit() -> int:
    try:
        import resource
    except ImportError:  # Windows: sockets are not counted against a descriptor limit
        return 4 * MAX_CONNECTIONS
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 4 * MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else soft


def _raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard one: the default soft limit (often 1024, macOS 256)
    would let a few hundred local connections to the relay exhaust the runtime's fds, while
    tor, which raises its own limit, could take far more. Apps set their own lower limit."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # macOS reports an infinite hard limit but refuses a soft one above OPEN_MAX (10240).
    target = hard if hard != resource.RLIM_INFINITY else 10240
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as err:
            log.info("could not raise the open-file limit from %d to %d: %s", soft, target, err)


def tor_socks_port(listeners: str) -> int | None:
    """The port in tor's GETINFO net/listeners/socks answer ('"127.0.0.1:PORT"'); None when
    tor has no SOCKS listener (`DisableNetwork 1` opens none). ValueError for anything else."""
    found = listeners.split()
    if not found:
        return None
    host, _, port = found[0].strip('"').rpartition(":")
    if len(found) != 1 or host != "127.0.0.1" or not port.isdigit():
        raise ValueError(f"tor reports SOCKS listeners {listeners!r}; expected one on 127.0.0.1")
    return int(port)


class _Pair:
    """One client connection and its backend connection to tor."""

    def __init__(self, relay: SocksRelay):
        self.relay = relay
        self.client: asyncio.Transport | None = None
        self.tor: asyncio.Transport | None = None
        self.client_lost = self.tor_lost = False
        self.closed = False  # counted out of the relay's connections
        self.greeted = False  # the client has sent a byte

    def peer(self, side: asyncio.Transport) -> asyncio.Transport | None:
        return self.tor if side is self.client else self.client

    def connected(self) -> None:
        if self.closed:  # the client left while we were connecting
            self.tor.close()
            return
        self.client.resume_reading()  # its SOCKS greeting waited in the kernel
        asyncio.get_running_loop().call_later(GREETING_TIMEOUT, self._greeting_due)

    def _greeting_due(self) -> None:
        # A slot squatter: idle sockets would otherwise hold every slot for tor's ~120 s.
        if not self.greeted and not self.closed and not self.client.is_closing():
            log.info("closing a SOCKS client that sent nothing in %.0f s", GREETING_TIMEOUT)
            self.client.close()

    def abort(self) -> None:
        for t in (self.client, self.tor):
            if t is not None:
                t.abort()
        self._gone()

    def refuse(self) -> None:
        """No tor to relay to: end the client with a FIN, so its SOCKS library reports a
        proxy that closed the connection (python-socks: ProxyError), not a reset."""
        tor, self.tor = self.tor, None
        if tor is not None:
            tor.abort()
        client = self.client
        if client is None or client.is_closing():
            self._gone()
            return
        client.write_eof()
        client.resume_reading()  # bytes left unread at close would turn the FIN into a reset
        asyncio.get_running_loop().call_later(5, client.abort)  # a client that never closes

    def lost(self, side: asyncio.Transport) -> None:
        """One side closed: let the other flush what it holds (FLUSH_TIMEOUT at most), then
        close. The pair counts until both are closed, so max_connections bounds them all."""
        if side is self.client:
            self.client_lost = True
        elif side is self.tor:
            self.tor_lost = True
        else:
            return  # a tor connection refuse() dropped
        peer = self.peer(side)
        if peer is not None and not peer.is_closing():
            peer.close()
        if self.client_lost and (self.tor is None or self.tor_lost):
            self._gone()
        elif peer is not None:
            asyncio.get_running_loop().call_later(FLUSH_TIMEOUT, peer.abort)

    def _gone(self) -> None:
        if not self.closed:
            self.closed = True
            self.relay._gone(self)


class _Side(asyncio.BufferedProtocol):
    def __init__(self, pair: _Pair):
        self.pair = pair
        self.transport: asyncio.Transport | None = None

    def _start(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.pair.relay._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        peer = self.pair.peer(self.transport)
        if peer is not None and not peer.is_closing():
            # A copy: the buffer is shared, and a transport may keep what it could not send
            # as a view of what it was given.
            peer.write(bytes(self.pair.relay._read_buffer[:nbytes]))

    def eof_received(self) -> bool:
        if self.transport is self.pair.tor:
            # tor never half-closes a stream it still uses (its EOF handling and a RELAY_END
            # both close the whole connection): the stream is over, the client is closed
            # once what it is owed is sent (lost()), and its slot is freed.
            return False
        peer = self.pair.peer(self.transport)
        if peer is None:
            return False
        if peer.can_write_eof() and not peer.is_closing():
            peer.write_eof()  # after what is still buffered; tor then ends the stream
        return True  # keep our write side open for tor's answer

    # The peer's send buffer passed its high-water mark: stop reading from this side's peer.
    def pause_writing(self) -> None:
        peer = self.pair.peer(self.transport)
        if peer is not None and not peer.is_closing():
            peer.pause_reading()

    def resume_writing(self) -> None:
        peer = self.pair.peer(self.transport)
        if peer is not None and not peer.is_closing():
            peer.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pair.lost(self.transport)


class _Client(_Side):
    def __init__(self, relay: SocksRelay):
        super().__init__(_Pair(relay))

    def buffer_updated(self, nbytes: int) -> None:
        self.pair.greeted = True
        super().buffer_updated(nbytes)

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._start(transport)
        self.pair.client = transport
        transport.pause_reading()  # until tor is connected; the kernel holds what is sent
        if not self.pair.relay._accepted(self.pair):
            transport.abort()


class _Backend(_Side):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self._start(transport)
        self.pair.tor = transport

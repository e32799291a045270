"""The HTTP/1.1 connection: reads requests, writes Apache-shaped responses, keep-alive.

One `Connection` (an asyncio.Protocol) per TCP connection: requests are answered in
order (pipelining works), the connection headers follow Apache's rules (Keep-Alive
`timeout=5, max=N` only when the client asked for keep-alive; `Connection: close`
when closing; at most 100 requests per connection), idle connections close after 5 s
and a request head that stays incomplete for 20 s gets Apache's 408.  Bodies of
requests (POST) are read and discarded as they arrive.  Files larger than the in-memory
limit go out with sendfile (no copy in the process); multipart ranges and large gzip bodies
are streamed, each piece only once the previous ones left; other answers (at most 256 KiB,
files.BODY_CACHE_MAX) are written whole.  What a connection has written and its peer not yet
read counts against one budget for the whole process (apaf.staticsite.backlog): past it the
connections with the largest backlogs are dropped, so 1024 visitors that never read cannot
make the process hold 1024 answers.

Closing is Apache's lingering close: shut down our side, then read and drop what the
client still sends (2 s without data, 30 s at most) before closing the socket, because
closing with unread input makes the kernel send a reset that destroys the answer still
in flight (through tor a long request's 414 was never seen).  At MAX_CONNECTIONS the
oldest connection that has not sent a byte makes room for the new one, so idle
connections held open by one client cannot lock everyone else out.  Upgraded connections
(websockets) send bytes all the time, so that never picks them: at most MAX_UPGRADED of
them are open at once, and a further upgrade gets Apache's 503 (and stays HTTP), so plain
requests always find room.

A response with an `upgrade` (a 101 to a websocket handshake, apaf.web.websocket) hands
the connection to the protocol it returns: from then on bytes, EOF and flow control go
to it, and none of the HTTP timers apply.
"""
import asyncio
import logging

from apaf import listen, memory
from apaf.staticsite.clock import Clock
from apaf.staticsite.files import GzipStream
from apaf.staticsite.request import ChunkedBody, HttpError, find_head_end, parse_head
from apaf.staticsite import backlog, wire
from apaf.staticsite.site import Response, error

log = logging.getLogger(__name__)

KEEPALIVE_TIMEOUT = 5.0
# mod_reqtimeout's `header=20-40,minrate=500`: 20 s for a request head, extended by
# one second per 500 bytes received, never beyond 40 s.
HEADER_TIMEOUT = 20.0
HEADER_TIMEOUT_MAX = 40.0
HEADER_MINRATE = 500.0
MAX_CONNECTIONS = 1024
MAX_UPGRADED = MAX_CONNECTIONS // 2
MAX_KEEPALIVE = 100
# Apache's lingering close (SECONDS_TO_LINGER, MAX_SECS_TO_LINGER) and its Timeout for
# a response the client reads too slowly.
LINGER_IDLE = 2.0
LINGER_MAX = 30.0
SEND_TIMEOUT = 300.0


class Connection(asyncio.Protocol):
    def __init__(self, site, clock, header_timeout=HEADER_TIMEOUT):
        self.site = site
        self.clock = clock
        self.header_timeout = header_timeout
        self.upgraded = None      # the protocol a 101 handed the connection to
        self.buf = bytearray()
        self.transport = None
        self.served = 0
        self.discard = 0          # body bytes of the current request still to drop
        self.busy = False         # a sendfile is running; later requests wait
        self.closing = False
        self.paused = False
        self.deadline = None      # loop time after which _timeout runs (None: never)
        self.pending = None       # a parsed request whose chunked body is incomplete
        self.task = None          # the running sendfile, if any
        self.head_started = None  # loop time the current request head began arriving
        self.head_bytes = 0
        self.chunked = None       # the ChunkedBody reader of self.pending
        self.drain = None         # a future a stream waits on while writing is paused
        self.received = False     # any byte yet (idle connections are evicted first)
        self.linger_start = None  # loop time a lingering close began (None: not lingering)
        self.peer_eof = False

    # --- asyncio callbacks -------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self.opened = asyncio.get_running_loop().time()
        if len(self.clock.connections) >= MAX_CONNECTIONS:
            idle = [c for c in self.clock.connections
                    if not c.received or c.linger_start is not None]
            if not idle:
                self.closing = True
                transport.abort()  # overload: shed the newest connection, keep the rest
                return
            oldest = min(idle, key=lambda c: c.opened)
            self.clock.connections.discard(oldest)
            oldest.closing = True
            oldest.transport.abort()
        self.clock.connections.add(self)
        backlog.add(transport, self._drop)
        self._arm(self.header_timeout)

    def connection_lost(self, exc):
        backlog.remove(self.transport)
        if self.upgraded is not None:
            self.upgraded.connection_lost(exc)
        self.clock.connections.discard(self)
        self.closing = True
        self.deadline = None
        if self.drain is not None and not self.drain.done():
            self.drain.set_exception(ConnectionResetError("connection lost"))

    def data_received(self, data):
        self.received = True
        if self.upgraded is not None:
            self.upgraded.data_received(data)
            return
        if self.linger_start is not None:  # closing: drop it, wait a little longer for EOF
            if self._now() - self.linger_start > LINGER_MAX:
                self.transport.abort()
            else:
                self._arm(LINGER_IDLE)
            return
        self.buf += data
        loop = asyncio.get_running_loop()
        if self.head_started is None:
            self.head_started, self.head_bytes = loop.time(), 0
        self.head_bytes += len(data)
        allowed = min(self.header_timeout + self.head_bytes / HEADER_MINRATE, HEADER_TIMEOUT_MAX)
        self._arm(max(0.0, self.head_started + allowed - loop.time()))
        if b"\n" not in data and len(self.buf) - self.buf.rfind(b"\n") <= 8192 and (
                not self.discard and self.pending is None):
            return  # no new line ended: nothing new to parse (and no rescans per byte)
        self._process()

    def eof_received(self):
        self.peer_eof = True
        if self.upgraded is not None:
            return self.upgraded.eof_received()
        if self.linger_start is not None:
            self.transport.close()
            return True
        # The client half-closed: answer what is complete, then close.
        self._process()
        if not self.busy and not self.closing:
            self._close()
        return True

    def pause_writing(self):
        self.paused = True
        if self.upgraded is not None:
            self.upgraded.pause_writing()
            return
        if self.linger_start is None:
            self.transport.pause_reading()

    def resume_writing(self):
        self.paused = False
        backlog.charge(self.transport)  # drained: what it holds now counts, not its peak
        if self.upgraded is not None:
            self.upgraded.resume_writing()
            return
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)
        if not self.closing and not self.busy:
            self.transport.resume_reading()
            self._process()

    # --- request loop ------------------------------------------------------------
    @staticmethod
    def _now():
        return asyncio.get_running_loop().time()

    def _arm(self, seconds):
        self.deadline = self._now() + seconds

    def _timeout(self):
        if self.linger_start is not None:
            if (self.transport.get_write_buffer_size()
                    and self._now() < self.linger_start + SEND_TIMEOUT):
                self._arm(LINGER_IDLE)  # the answer is still going out
            else:
                self.transport.abort()
            return
        if self.closing or self.busy:
            return
        if self.buf.strip(b"\r\n"):
            self._send(error(408), None, close=True)
        self._close()

    def _process(self):
        while not self.closing and not self.busy and not self.paused and self.upgraded is None:
            if self.discard:
                n = min(self.discard, len(self.buf))
                del self.buf[:n]
                self.discard -= n
                if self.discard:
                    return
            if not self.buf:
                return
            try:
                req, self.pending = self.pending, None
                if req is None:
                    end = find_head_end(self.buf)
                    if end < 0:
                        return
                    head = bytes(self.buf[:end])
                    del self.buf[:end]
                    req = parse_head(head)
                    if "transfer-encoding" in req.headers:
                        self.chunked = ChunkedBody()
                if not self._take_body(req):
                    self.pending = req  # its chunked body is still arriving
                    return
            except HttpError as e:
                resp = error(e.status, method=e.method, expect=e.expect, extra=e.extra)
                if e.unframed:
                    resp.headers = [h for h in resp.headers if h[0] != "Content-Length"]
                self._send(resp, None, close=True, head_only=e.head)
                self._close()
                return
            now = self.clock.now()
            self.head_started = None
            try:
                resp = self.site.respond(req, now)
            except Exception:  # never show a traceback to the network
                log.exception("static site failed on %r", req.path)
                resp = error(500)
            if resp.upgrade is not None and self._upgrades_full():
                resp = error(503)  # refused: the 101 never goes out, nor starts its handler
            self._send(resp, req)
            if not self.busy and not self.closing and self.upgraded is None:
                self._arm(KEEPALIVE_TIMEOUT)

    def _upgrades_full(self):
        return sum(c.upgraded is not None for c in self.clock.connections) >= MAX_UPGRADED

    def _take_body(self, req):
        h = req.headers
        if self.chunked is not None:
            used, done = self.chunked.consume(self.buf)
            del self.buf[:used]
            if not done:
                return False
            self.chunked = None
        elif "content-length" in h:
            self.discard = int(h["content-length"])
        return True

    # --- responses ---------------------------------------------------------------
    def _send(self, resp: Response, req, close=False, head_only=False):
        if req is not None and req.http09:
            if resp.stream is not None or resp.file is not None:
                self._stream(resp.stream or [resp.file], b"", close=True, chunked=False)
            else:
                self.transport.write(resp.body)
                backlog.charge(self.transport)
                self._close()
            return
        self.clock.now()
        upgrade = resp.upgrade is not None
        keep = upgrade or (not (close or resp.close or req is None)
                           and wire.keepalive(req, resp, self.served, MAX_KEEPALIVE))
        if keep and not upgrade:
            self.served += 1
        head, body, file, framed = wire.render(resp, req, self.clock.date, keep,
                                               MAX_KEEPALIVE - self.served + 1, head_only,
                                               KEEPALIVE_TIMEOUT)
        head_request = head_only or (req is not None and req.method == "HEAD")
        if resp.stream is not None and not head_request:
            self._stream(resp.stream, head, close=not keep, chunked=framed)
            return
        if file is not None:
            self._stream([file], head, close=not keep, chunked=False)
            return
        self.transport.write(head + body)
        backlog.charge(self.transport)
        if upgrade:
            self._upgrade(resp.upgrade)
        elif not keep:
            self._close()

    def _upgrade(self, upgrade):
        self.deadline = None
        self.upgraded = upgrade(self.transport)
        early, self.buf = bytes(self.buf), bytearray()
        if early:  # the client's first frames came with the handshake
            self.upgraded.data_received(early)

    def _stream(self, parts, head, close, chunked):
        self.busy = True
        self.deadline = None
        # Pipelined requests wait in the kernel, not in our buffer, while the body goes out.
        self.transport.pause_reading()
        self.task = asyncio.get_running_loop().create_task(
            self._stream_task(parts, head, close, chunked))

    async def _stream_task(self, parts, head, close, chunked):
        """Send head, then each part (bytes, (path, offset, count) or GzipStream), in
        chunked framing when `chunked`; file slices go out with sendfile."""
        loop = asyncio.get_running_loop()
        try:
            if head:
                self.transport.write(head)
                backlog.charge(self.transport)
            for part in parts:
                if isinstance(part, tuple):
                    path, offset, count = part
                    if chunked:
                        self.transport.write(b"%x\r\n" % count)
                    with open(path, "rb") as f:
                        await asyncio.wait_for(loop.sendfile(self.transport, f, offset, count), SEND_TIMEOUT)
                    if chunked:
                        self.transport.write(b"\r\n")
                elif isinstance(part, GzipStream):
                    async for piece in part:
                        await self._write(piece, chunked)
                else:
                    await self._write(part, chunked)
            if chunked:
                self.transport.write(b"0\r\n\r\n")
        except TimeoutError:
            # The client stopped reading: it holds an open file (and a compressor) no longer.
            self.busy, self.task = False, None
            self.transport.abort()
            return
        except (OSError, RuntimeError):
            close = True
        self.busy = False
        self.task = None
        if close or self.transport.is_closing():
            self._close()
            return
        if not self.paused:
            self.transport.resume_reading()
        self._arm(KEEPALIVE_TIMEOUT)
        self._process()

    async def _write(self, data, chunked):
        """Write one piece, then wait while the transport's buffer is over its limit."""
        if not data:
            return
        if self.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.transport.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        backlog.charge(self.transport)
        if self.paused:
            self.drain = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(self.drain, SEND_TIMEOUT)

    def _drop(self, unsent):
        """backlog's verdict: this peer reads slowest while the process holds too much for
        all of them.  Nothing can reach it ahead of what it has not read, so no close frame
        or error page: the connection ends (a browser reports a websocket's end as 1006)."""
        log.warning("dropped a %s connection whose peer had not read %d bytes: all "
                    "connections together held more than the process's budget (%d bytes)",
                    "websocket" if self.upgraded is not None else "HTTP", unsent,
                    backlog.BUDGET.limit)
        self.closing = True
        self.transport.abort()

    def _close(self):
        """Lingering close (see the module docstring); immediate when the client has
        already closed its side."""
        if self.closing:
            return
        self.closing = True
        self.deadline = None
        if self.peer_eof or self.transport.is_closing():
            self.transport.close()
            return
        self.buf.clear()
        self.linger_start = self._now()
        self.transport.write_eof()  # after what is buffered has gone out
        self.transport.resume_reading()
        self._arm(LINGER_IDLE)


async def serve(site, sock, header_timeout=HEADER_TIMEOUT):
    """Serve `site` on the listening socket `sock` until cancelled.

    header_timeout: seconds a connection may take to send its first request head (and
    each later one, from its start); Apache's 20 unless the app wants idle ones gone sooner."""
    clock = Clock()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(site, clock, header_timeout),
                                      sock=sock, backlog=1024)
    listen.mark_ready()
    sweeper = loop.create_task(clock.sweep())
    memory.trim()  # listening: what start-up freed goes back to the system
    try:
        async with server:
            await server.serve_forever()
    finally:
        sweeper.cancel()

"""The HTTP/1.1 connection: reads requests, writes Apache-shaped responses, keep-alive.

One `Connection` (an asyncio.Protocol) per TCP connection: requests are answered in
order (pipelining works), the connection headers follow Apache's rules (Keep-Alive
`timeout=5, max=N` only when the client asked for keep-alive; `Connection: close`
when closing; at most 100 requests per connection), idle connections close after 5 s
and a request head that stays incomplete for 20 s gets Apache's 408.  Bodies of
requests (POST) are read and discarded.  Files larger than the in-memory limit go out
with sendfile.
"""
import asyncio
import logging
import time

from apaf.staticsite.files import http_date
from apaf.staticsite.request import HttpError, chunked_end, find_head_end, parse_head
from apaf.staticsite.site import Response, error
from apaf.web.apache_pages import REASONS

log = logging.getLogger(__name__)

KEEPALIVE_TIMEOUT = 5.0
# mod_reqtimeout's `header=20-40,minrate=500`: 20 s for a request head, extended by
# one second per 500 bytes received, never beyond 40 s.
HEADER_TIMEOUT = 20.0
HEADER_TIMEOUT_MAX = 40.0
HEADER_MINRATE = 500.0
MAX_CONNECTIONS = 1024
MAX_KEEPALIVE = 100
MAX_BUFFERED_BODY = 1 << 20


class Clock:
    """Server-wide state: the current second and its HTTP date (recomputed once per
    second), and the open connections, whose deadlines one sweeper checks (cheaper
    than a timer handle per request)."""

    SWEEP_SECONDS = 0.5

    def __init__(self):
        self.second = 0
        self.date = b""
        self.connections = set()

    async def sweep(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.SWEEP_SECONDS)
            now = loop.time()
            for conn in [c for c in self.connections if c.deadline and c.deadline <= now]:
                conn.deadline = None
                conn._timeout()

    def now(self):
        t = int(time.time())
        if t != self.second:
            self.second = t
            self.date = http_date(t).encode()
        return t


class Connection(asyncio.Protocol):
    def __init__(self, site, clock):
        self.site = site
        self.clock = clock
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

    # --- asyncio callbacks -------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        if len(self.clock.connections) >= MAX_CONNECTIONS:
            self.closing = True
            transport.abort()  # overload: shed the newest connection, keep serving the rest
            return
        self.clock.connections.add(self)
        self._arm(HEADER_TIMEOUT)

    def connection_lost(self, exc):
        self.clock.connections.discard(self)
        self.closing = True
        self.deadline = None

    def data_received(self, data):
        self.buf += data
        loop = asyncio.get_running_loop()
        if self.head_started is None:
            self.head_started, self.head_bytes = loop.time(), 0
        self.head_bytes += len(data)
        allowed = min(HEADER_TIMEOUT + self.head_bytes / HEADER_MINRATE, HEADER_TIMEOUT_MAX)
        self._arm(max(0.0, self.head_started + allowed - loop.time()))
        if b"\n" not in data and len(self.buf) - self.buf.rfind(b"\n") <= 8192 and (
                not self.discard):
            return  # no new line ended: nothing new to parse (and no rescans per byte)
        self._process()

    def eof_received(self):
        # The client half-closed: answer what is complete, then close.
        self._process()
        if not self.busy and not self.closing:
            self._close()
        return True

    def pause_writing(self):
        self.paused = True
        self.transport.pause_reading()

    def resume_writing(self):
        self.paused = False
        if not self.closing and not self.busy:
            self.transport.resume_reading()
            self._process()

    # --- request loop ------------------------------------------------------------
    def _arm(self, seconds):
        self.deadline = asyncio.get_running_loop().time() + seconds

    def _timeout(self):
        if self.closing or self.busy:
            return
        if self.buf.strip(b"\r\n"):
            self._send(error(408), None, close=True)
        self._close()

    def _process(self):
        while not self.closing and not self.busy and not self.paused:
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
            self._send(resp, req)
            if resp.file is None and not self.closing:
                self._arm(KEEPALIVE_TIMEOUT)

    def _take_body(self, req):
        h = req.headers
        if "transfer-encoding" in h:
            end = chunked_end(self.buf)
            if end < 0:
                if len(self.buf) > MAX_BUFFERED_BODY:
                    raise HttpError(413)
                return False
            del self.buf[:end]
        elif "content-length" in h:
            self.discard = int(h["content-length"])
        return True

    # --- responses ---------------------------------------------------------------
    def _send(self, resp: Response, req, close=False, head_only=False):
        if req is not None and req.http09:
            body = resp.body if resp.file is None else None
            if body is not None:
                self.transport.write(body)
                self._close()
            else:
                self._sendfile(resp.file, b"", close=True)
            return
        self.clock.now()
        headers = list(resp.headers)
        keep = not (close or resp.close or req is None) and self._keepalive(req, resp)
        conn = []
        if keep:
            self.served += 1
            if "keep-alive" in _tokens(req.headers.get("connection", "")):
                conn = [("Keep-Alive", f"timeout={int(KEEPALIVE_TIMEOUT)}, "
                                       f"max={MAX_KEEPALIVE - self.served + 1}"),
                        ("Connection", "Keep-Alive")]
        else:
            conn = [("Connection", "close")]
        body, file = resp.body, resp.file
        if head_only or (req is not None and req.method == "HEAD"):
            body, file = b"", None
            if resp.page:
                headers = [h for h in headers if h[0] != "Content-Length"]
        elif resp.chunked:
            if req is None or req.version >= (1, 1):
                headers.insert(0, ("Transfer-Encoding", "chunked"))
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        # Apache writes Content-Type (and Content-Language) last, after Connection.
        at = next((i for i, h in enumerate(headers)
                   if h[0] in ("Content-Type", "Content-Language")), len(headers))
        headers[at:at] = conn
        lines = [b"HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Apache\r\n"
                 % (resp.status, REASONS[resp.status].encode(), self.clock.date)]
        lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
        lines.append(b"\r\n")
        head = b"".join(lines)

        if file is not None:
            self._sendfile(file, head, close=not keep)
            return
        self.transport.write(head + body)
        if not keep:
            self._close()

    def _keepalive(self, req, resp):
        # Apache closes after `Expect: 100-continue` when it has not read the body.
        if req.http09 or req.headers.get("expect", "").lower() == "100-continue":
            return False
        if resp.chunked and req.version < (1, 1):
            return False
        if "transfer-encoding" in req.headers and "content-length" in req.headers:
            return False  # a smuggling attempt: Apache answers, then closes
        tokens = _tokens(req.headers.get("connection", ""))
        wanted = "close" not in tokens if req.version >= (1, 1) else "keep-alive" in tokens
        return wanted and self.served < MAX_KEEPALIVE

    def _sendfile(self, file, head, close):
        self.busy = True
        self.deadline = None
        # Pipelined requests wait in the kernel, not in our buffer, while the file goes out.
        self.transport.pause_reading()
        self.task = asyncio.get_running_loop().create_task(
            self._sendfile_task(file, head, close))

    async def _sendfile_task(self, file, head, close):
        path, offset, count = file
        try:
            if head:
                self.transport.write(head)
            with open(path, "rb") as f:
                await asyncio.get_running_loop().sendfile(self.transport, f, offset, count)
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

    def _close(self):
        if not self.closing:
            self.closing = True
            self.deadline = None
            self.transport.close()


def _tokens(value):
    return {t.strip().lower() for t in value.split(",")}


async def serve(site, host, port):
    """Listen on host:port and serve `site` until cancelled."""
    clock = Clock()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(site, clock), host, port,
                                      reuse_address=True, backlog=1024)
    sweeper = loop.create_task(clock.sweep())
    try:
        async with server:
            await server.serve_forever()
    finally:
        sweeper.cancel()

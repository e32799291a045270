"""RFC 6455 websockets, server side, for routes of APAF's Apache-like server (apaf.staticsite).

    def chat_route(request, now):
        return websocket.upgrade(request, talk, max_size=4096) or error(404)

    async def talk(ws):
        async for message in ws:        # str (text frames) or bytes (binary)
            await ws.send_json({"echo": message})

`upgrade()` returns the 101 answer to a valid handshake (GET, HTTP/1.1, Upgrade:
websocket, Connection: upgrade, version 13, a 16-byte key, no body) and None to anything
else, so the caller answers what Apache would.  A handshake from another origin gets
Apache's 403 instead: a page elsewhere could otherwise open a websocket in a visitor's
browser; no Origin header (not a browser) and the page's own origin are accepted, and
`origins=` names more (`("*",)` for any, on purpose).  The handler runs as a task once
the 101 is sent; when it returns, the socket is closed (1000; 1011 if it raised).

Hand-written rather than wsproto: wsproto imports h11 and hashlib, which loads OpenSSL's
libcrypto for one SHA-1; measured in the chat's process that is +5.0 MB RSS (1.8 MB
without libcrypto), a fifth of the 25 MB an app process may use (issue 15).  The server
side needs little of RFC 6455, and this module enforces all of it, each breach ending
the connection with a close frame carrying the RFC's code:
- client frames masked, RSV bits clear (no extension is negotiated), known opcodes: 1002;
- control frames (close, ping, pong) unfragmented and at most 125 bytes: 1002;
- continuation frames only inside a fragmented message, no new message inside one: 1002;
- a message (its fragments together) over max_size: 1009, decided from the frame header,
  so a peer can never make us buffer more than max_size;
- text that is not UTF-8, a close code RFC 6455 does not allow on the wire: 1007, 1002.
A close frame is answered with one (echoing its code) and the TCP connection closed;
`close()` sends ours and gives the peer CLOSE_TIMEOUT to answer.  Pings get pongs; every
`heartbeat` seconds a ping goes out, and a peer that sent no whole frame since the last one
(not even its pong; bytes of an unfinished frame do not count) is dropped.

A peer that does not read is dropped once MAX_BUFFERED (1 MiB) waits for it, so one stalled
reader cannot hold the server's memory; many cannot either: all connections of the process
share one budget (apaf.staticsite.backlog, 16 MiB), and past it the largest backlogs are
dropped.  Before it, 512 websockets (the server's MAX_UPGRADED) that never read held 507 MiB
of the chat's broadcasts, each under its own 1 MiB.  A dropped peer gets no close frame (it
would wait behind everything the peer does not read): the connection ends, which a browser
reports as 1006, and the drop is logged.
"""
from __future__ import annotations

import asyncio
import binascii
import json
import logging

from apaf.staticsite import backlog
from apaf.staticsite.site import Response, error

try:
    # CPython's own SHA-1 (what hashlib falls back to): hashlib would map OpenSSL's libcrypto,
    # ~3.7 MB of RSS, into an app process for this one hash.
    from _sha1 import sha1
except ImportError:  # a Python built without it
    from hashlib import sha1

log = logging.getLogger(__name__)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL, GOING_AWAY, PROTOCOL_ERROR, BAD_DATA, TOO_BIG, INTERNAL_ERROR = (
    1000, 1001, 1002, 1007, 1009, 1011)
CLOSE_TIMEOUT = 5.0
MAX_BUFFERED = 1 << 20
QUEUED_MAX = 16   # messages waiting for the handler before we stop reading the socket
DRAINED = 16 << 10  # drain() returns once at most this much waits unsent


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",")}


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return binascii.b2a_base64(sha1(key.encode("ascii") + GUID).digest(), newline=False).decode()


def handshake(req) -> str | None:
    """The Sec-WebSocket-Accept value when req (apaf.staticsite.request.Request) is a valid
    opening handshake, else None."""
    h = req.headers
    if req.method != "GET" or req.version is None or req.version < (1, 1):
        return None
    if "websocket" not in _tokens(h.get("upgrade", "")) or (
            "upgrade" not in _tokens(h.get("connection", ""))):
        return None
    if h.get("sec-websocket-version") != "13" or "transfer-encoding" in h or (
            h.get("content-length", "0") != "0"):
        return None
    key = h.get("sec-websocket-key", "")
    try:
        if len(binascii.a2b_base64(key.encode("ascii"), strict_mode=True)) != 16:
            return None
    except (binascii.Error, UnicodeEncodeError):
        return None
    return accept_key(key)


def same_origin(req, origins=()) -> bool:
    """True when req has no Origin header (not a browser), its Origin is the page's own
    (http or https, req's Host), or one of `origins` ("*": any)."""
    origin = req.headers.get("origin")
    if origin is None or "*" in origins:
        return True
    origin = origin.lower()
    return (origin in (f"http://{req.host}", f"https://{req.host}")
            or origin in {o.lower() for o in origins})


def upgrade(req, handler, *, max_size: int, heartbeat: float = 30.0, headers=(), origins=()):
    """The 101 Response starting `await handler(ws)` on this connection, None when req is
    not a websocket handshake, Apache's 403 when it comes from another origin.
    headers: more (name, value) pairs for the 101; origins: more origins to accept, as
    browsers send them ("http://example.onion"), or ("*",) for any."""
    if isinstance(origins, str):
        origins = (origins,)  # one origin, not its characters
    accept = handshake(req)
    if accept is None:
        return None
    if not same_origin(req, origins):
        return error(403)

    def start(transport):
        ws = WebSocket(transport, max_size, heartbeat)
        ws.task = asyncio.get_running_loop().create_task(ws.run(handler))
        return ws

    return Response(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                          ("Sec-WebSocket-Accept", accept), *headers], upgrade=start)


def frame(opcode: int, payload: bytes = b"") -> bytes:
    """One unmasked, final frame (what a server sends)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def _valid_close_code(code: int) -> bool:
    # 1004-1006 and 1015 are reserved for reporting, never sent; 1016-2999 are unassigned.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class _Fail(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class WebSocket:
    """One server-side websocket: the connection's protocol (asyncio.Protocol's callbacks)
    and, for the handler, `async for message in ws`, `receive()`, `send_text()`,
    `send_json()`, `drain()`, `close()`.  Sending on a closed socket raises
    ConnectionResetError."""

    def __init__(self, transport, max_size: int, heartbeat: float):
        self.transport = transport
        self.max_size = max_size
        self.heartbeat = heartbeat
        self.task = None
        self.close_code: int | None = None   # the peer's close code, once it sent one
        self._buf = bytearray()
        # The message being received, its fragments joined as they come: a list of them
        # would grow by a pointer per empty fragment, which max_size does not count.
        self._message = bytearray()
        self._opcode: int | None = None      # opcode of the fragmented message in progress
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._reading = True                 # input still parsed (until a close or a failure)
        self._paused = False
        self._close_sent = False
        self._heard = True
        self._drained: asyncio.Future | None = None  # what drain() waits on
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(heartbeat, self._beat) if heartbeat else None

    # --- the handler's side ------------------------------------------------------------
    async def run(self, handler) -> None:
        code = NORMAL
        try:
            await handler(self)
        except Exception:
            log.exception("websocket handler failed")
            code = INTERNAL_ERROR
        await self.close(code)

    async def receive(self) -> str | bytes | None:
        """The next message, or None once the socket is closing or closed."""
        message = await self._inbox.get()
        if message is None:
            self._inbox.put_nowait(None)  # every later receive() gets None too
        elif self._paused and self._inbox.qsize() < QUEUED_MAX // 2:
            self._paused = False
            self.transport.resume_reading()
        return message

    def __aiter__(self):
        return self

    async def __anext__(self) -> str | bytes:
        message = await self.receive()
        if message is None:
            raise StopAsyncIteration
        return message

    async def send_text(self, text: str) -> None:
        self._send(frame(TEXT, text.encode()))

    async def send_json(self, obj) -> None:
        await self.send_text(json.dumps(obj))

    async def drain(self) -> None:
        """Wait until at most DRAINED bytes sent here are unsent (the kernel took the rest).
        Much to send (a chat's history) goes out in parts, each after drain(), so it never
        nears MAX_BUFFERED.  Raises ConnectionResetError once the socket is closed."""
        t = self.transport
        # Paused above DRAINED, resumed at it: resume_writing() says when to go on.  Set
        # here, not at the upgrade: a pause then would reach the HTTP side and stop reading.
        t.set_write_buffer_limits(high=DRAINED, low=DRAINED)
        while not t.is_closing() and t.get_write_buffer_size() > DRAINED:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
        if t.is_closing():
            raise ConnectionResetError("websocket closed")

    async def close(self, code: int = NORMAL) -> None:
        """Send our close frame; the peer's answer (or CLOSE_TIMEOUT) ends the connection."""
        if self._close_sent or self.transport.is_closing():
            return
        self._close_sent = True
        self._write(frame(CLOSE, code.to_bytes(2, "big")))
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.abort)

    def _send(self, data: bytes) -> None:
        if self._close_sent or self.transport.is_closing():
            raise ConnectionResetError("websocket closed")
        if not self._write(data):
            raise ConnectionResetError("websocket peer does not read")

    def _write(self, data: bytes) -> bool:
        """Write data; False when that dropped the peer: past MAX_BUFFERED unread here, or
        the largest backlog while all connections together passed the process's budget."""
        self.transport.write(data)
        unsent = self.transport.get_write_buffer_size()
        if unsent > MAX_BUFFERED:
            # Our close frame would wait behind what it does not read: just end it (the
            # browser reports 1006).
            log.warning("dropped a websocket whose peer had not read %d bytes (MAX_BUFFERED "
                        "%d)", unsent, MAX_BUFFERED)
            self.transport.abort()
            return False
        backlog.charge(self.transport)
        return not self.transport.is_closing()

    # --- the connection's side (called by apaf.staticsite.server.Connection) -------------
    def data_received(self, data: bytes) -> None:
        if not self._reading:
            return
        self._buf += data
        try:
            self._parse()
        except _Fail as failure:
            self._fail(failure.code)

    def eof_received(self) -> bool:
        self._end()
        return False  # let the transport close

    def connection_lost(self, exc) -> None:
        self._end()
        self.resume_writing()  # wakes drain(), which sees the socket closed
        if self._timer is not None:
            self._timer.cancel()

    def pause_writing(self) -> None:
        pass  # _send drops a peer whose backlog passes MAX_BUFFERED

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # --- frames ------------------------------------------------------------------------
    def _parse(self) -> None:
        buf = self._buf
        while self._reading and len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            final, opcode, length = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b0 & 0x70 or not b1 & 0x80:
                raise _Fail(PROTOCOL_ERROR)  # an RSV bit, or an unmasked client frame
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = int.from_bytes(buf[2:10], "big"), 10
                if length >> 63:
                    raise _Fail(PROTOCOL_ERROR)
            if opcode >= CLOSE:
                if opcode not in (CLOSE, PING, PONG) or not final or length > 125:
                    raise _Fail(PROTOCOL_ERROR)
            else:
                if opcode not in (CONTINUATION, TEXT, BINARY) or (
                        (opcode == CONTINUATION) != (self._opcode is not None)):
                    raise _Fail(PROTOCOL_ERROR)
                if len(self._message) + length > self.max_size:
                    raise _Fail(TOO_BIG)
            end = pos + 4 + length
            if len(buf) < end:
                return
            payload = unmask(bytes(buf[pos + 4:end]), bytes(buf[pos:pos + 4]))
            del buf[:end]
            self._heard = True  # a whole frame: a byte at a time would keep a dead peer alive
            if opcode >= CLOSE:
                self._control(opcode, payload)
            else:
                self._data(opcode, bool(final), payload)

    def _data(self, opcode: int, final: bool, payload: bytes) -> None:
        if opcode != CONTINUATION:
            self._opcode = opcode
        self._message += payload
        if not final:
            return
        message, kind = bytes(self._message), self._opcode
        self._message.clear()
        self._opcode = None
        if kind == TEXT:
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError:
                raise _Fail(BAD_DATA) from None
        self._inbox.put_nowait(message)
        if self._inbox.qsize() >= QUEUED_MAX and not self._paused:
            self._paused = True  # the handler is behind: let TCP slow the peer down
            self.transport.pause_reading()

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == PING:
            # pongs to a peer that pings and never reads would pile up: _write drops it
            if not self._close_sent and not self._write(frame(PONG, payload)):
                self._end()
            return
        if opcode == PONG:
            return
        if len(payload) == 1:
            raise _Fail(PROTOCOL_ERROR)
        code = int.from_bytes(payload[:2], "big") if payload else None
        if code is not None and not _valid_close_code(code):
            raise _Fail(PROTOCOL_ERROR)
        try:
            payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise _Fail(BAD_DATA) from None
        self.close_code = code
        if not self._close_sent:  # the peer began the closing handshake: echo its code
            self._close_sent = True
            self._write(frame(CLOSE, payload[:2]))
        self._end()
        self.transport.close()  # the server closes the TCP connection first (RFC 6455 7.1.1)

    def _fail(self, code: int) -> None:
        if not self._close_sent and not self.transport.is_closing():
            self._close_sent = True
            self._write(frame(CLOSE, code.to_bytes(2, "big")))
        self._end()
        self.transport.close()

    def _end(self) -> None:
        if self._reading:
            self._reading = False
            self._buf.clear()
            self._inbox.put_nowait(None)

    def _beat(self) -> None:
        if self.transport.is_closing():
            return
        if not self._heard:
            self.transport.abort()  # silent for a whole heartbeat, even to our ping
            return
        self._heard = False
        if not self._write(frame(PING)):
            return
        self._timer = asyncio.get_running_loop().call_later(self.heartbeat, self._beat)

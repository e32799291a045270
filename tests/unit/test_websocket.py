"""apaf.web.websocket against what a client (or an attacker) sends byte by byte: the opening
handshake, masking, fragmentation, control frames, the close handshake, size limits, the
heartbeat and a peer that stops reading.  A real server (apaf.staticsite.server) on
loopback, raw frames from a socket.  ~3 s.
"""
import asyncio
import os
import socket

import pytest

from apaf.staticsite import server
from apaf.staticsite.site import Site, error
from apaf.web import websocket
from apaf.web.apache_pages import error_page
from apaf.web.websocket import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key, and its accept value below
HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY.encode() + b"\r\n\r\n")


def client_frame(opcode, payload=b"", final=True, masked=True, rsv=0, length=None):
    n = len(payload) if length is None else length
    head = bytes([(0x80 if final else 0) | rsv | opcode])
    bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + websocket.unmask(payload, mask)


async def read_frame(reader):
    """(opcode, payload) of one server frame; the server never masks."""
    b0, b1 = await reader.readexactly(2)
    assert not b1 & 0x80, "a server frame was masked"
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return b0 & 0x0F, await reader.readexactly(n)


async def echo(ws):
    async for message in ws:
        if message == "close please":
            return
        if message == "flood":  # 64 MB of answers, as a busy room sends a peer that never reads
            for _ in range(1024):
                await ws.send_text("x" * 65536)
        await ws.send_json({"got": message if isinstance(message, str) else message.hex()})


@pytest.fixture
async def ws_server(monkeypatch):
    """Serve /ws (an echo, 64-byte messages at most, a 0.3 s heartbeat) and /quiet (the same
    without a heartbeat); returns connect()."""
    def route(req, now):
        beat = 0.3 if req.path == "/ws" else 0
        return websocket.upgrade(req, echo, max_size=64, heartbeat=beat) or error(404)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    task = asyncio.create_task(server.serve(Site(None, routes={"/ws": route, "/quiet": route}), sock))
    port = sock.getsockname()[1]
    opened = []

    async def connect(handshake=HANDSHAKE, early=b""):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened.append(writer)
        writer.write(handshake + early)
        head = await reader.readuntil(b"\r\n\r\n")
        return reader, writer, head

    yield connect
    for writer in opened:
        writer.close()
    task.cancel()


async def closed_with(reader, code):
    """The server's close frame carries `code`, then the TCP connection ends."""
    opcode, payload = await asyncio.wait_for(read_frame(reader), 5)
    assert (opcode, int.from_bytes(payload[:2], "big")) == (CLOSE, code)
    assert await asyncio.wait_for(reader.read(), 5) == b""


async def test_the_handshake_answers_rfc_6455s_accept_value(ws_server):
    reader, writer, head = await ws_server()
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head
    assert b"\r\nServer: Apache\r\n" in head and b"Keep-Alive" not in head
    assert head.count(b"\r\nConnection:") == 1 and b"\r\nConnection: Upgrade\r\n" in head
    writer.write(client_frame(TEXT, "héllo".encode()))
    assert await read_frame(reader) == (TEXT, '{"got": "h\\u00e9llo"}'.encode())


@pytest.mark.parametrize("change", [
    (b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"),
    (KEY.encode(), b"short"),
    (KEY.encode(), KEY.encode() + b", " + KEY.encode()),
    (b"Upgrade: websocket", b"Upgrade: h2c"),
    (b"Connection: Upgrade", b"Connection: keep-alive"),
    (b"HTTP/1.1", b"HTTP/1.0"),
    (b"GET", b"POST"),
])
async def test_anything_but_a_valid_handshake_gets_the_routes_own_answer(ws_server, change):
    reader, writer, head = await ws_server(HANDSHAKE.replace(*change))
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")


async def test_frames_sent_with_the_handshake_are_not_lost(ws_server):
    reader, writer, head = await ws_server(early=client_frame(TEXT, b"early"))
    assert await read_frame(reader) == (TEXT, b'{"got": "early"}')


async def test_fragments_are_joined_and_pings_between_them_answered(ws_server):
    reader, writer, _ = await ws_server()
    writer.write(client_frame(TEXT, b"one ", final=False) + client_frame(PING, b"are you there")
                 + client_frame(CONTINUATION, b"two ", final=False)
                 + client_frame(CONTINUATION, b"three"))
    assert await read_frame(reader) == (PONG, b"are you there")
    assert await read_frame(reader) == (TEXT, b'{"got": "one two three"}')
    writer.write(client_frame(BINARY, b"\x00\xff"))
    assert await read_frame(reader) == (TEXT, b'{"got": "00ff"}')


@pytest.mark.parametrize("frames,code", [
    ([client_frame(TEXT, b"bare", masked=False)], 1002),          # clients must mask
    ([client_frame(TEXT, b"x", rsv=0x40)], 1002),                  # no extension negotiated
    ([client_frame(0x3, b"x")], 1002),                              # reserved opcode
    ([client_frame(CONTINUATION, b"x")], 1002),                     # continues nothing
    ([client_frame(TEXT, b"a", final=False), client_frame(TEXT, b"b")], 1002),
    ([client_frame(PING, b"x", final=False)], 1002),               # fragmented control frame
    ([client_frame(PING, b"x" * 126)], 1002),                      # control frame too long
    ([client_frame(TEXT, b"\xc3\x28")], 1007),                     # not UTF-8
    ([client_frame(TEXT, b"\xc3", final=False), client_frame(CONTINUATION, b"\x28")], 1007),
    ([client_frame(CLOSE, b"\x03")], 1002),                        # a 1-byte close payload
    ([client_frame(CLOSE, (1005).to_bytes(2, "big"))], 1002),      # reserved, never sent
    ([client_frame(CLOSE, (1000).to_bytes(2, "big") + b"\xff")], 1007),
])
async def test_protocol_violations_close_with_the_rfcs_code(ws_server, frames, code):
    reader, writer, _ = await ws_server()
    writer.write(b"".join(frames))
    await closed_with(reader, code)


async def test_an_oversized_message_is_refused_from_its_header_alone(ws_server):
    reader, writer, _ = await ws_server()
    writer.write(client_frame(TEXT, length=1 << 40)[:14])  # claims a terabyte, sends none
    await closed_with(reader, 1009)
    reader, writer, _ = await ws_server()
    writer.write(client_frame(TEXT, b"x" * 40, final=False) + client_frame(CONTINUATION, b"y" * 40))
    await closed_with(reader, 1009)


async def test_the_close_handshake_echoes_the_code_and_ends_the_connection(ws_server):
    reader, writer, _ = await ws_server()
    writer.write(client_frame(CLOSE, (4001).to_bytes(2, "big") + b"bye"))
    await closed_with(reader, 4001)


async def test_a_handler_that_returns_closes_the_socket(ws_server):
    reader, writer, _ = await ws_server()
    writer.write(client_frame(TEXT, b"close please"))
    opcode, payload = await asyncio.wait_for(read_frame(reader), 5)
    assert (opcode, payload) == (CLOSE, (1000).to_bytes(2, "big"))
    writer.write(client_frame(CLOSE, payload))  # our answer: the server closes TCP
    assert await asyncio.wait_for(reader.read(), 5) == b""


async def test_the_heartbeat_pings_and_drops_a_silent_peer(ws_server):
    reader, writer, _ = await ws_server()
    assert await asyncio.wait_for(read_frame(reader), 5) == (PING, b"")
    # no pong: dropped at the next beat
    assert await asyncio.wait_for(reader.read(), 5) == b""


async def test_a_peer_answering_pings_stays(ws_server):
    reader, writer, _ = await ws_server()
    for _ in range(3):
        assert await asyncio.wait_for(read_frame(reader), 5) == (PING, b"")
        writer.write(client_frame(PONG))
    writer.write(client_frame(TEXT, b"still here"))
    while (frame := await asyncio.wait_for(read_frame(reader), 5))[0] == PING:
        writer.write(client_frame(PONG))
    assert frame == (TEXT, b'{"got": "still here"}')


async def test_http_timers_stop_at_the_upgrade(ws_server, monkeypatch):
    """The connection's keep-alive and header timers (5 s, 20 s) are HTTP's: a websocket
    outlives them (here shortened to 0.2 s)."""
    monkeypatch.setattr(server, "KEEPALIVE_TIMEOUT", 0.2)
    monkeypatch.setattr(server.Clock, "SWEEP_SECONDS", 0.05)
    reader, writer, _ = await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet"))
    await asyncio.sleep(1)
    writer.write(client_frame(TEXT, b"later"))
    assert await asyncio.wait_for(read_frame(reader), 5) == (TEXT, b'{"got": "later"}')


async def test_a_peer_that_stops_reading_is_dropped(ws_server, monkeypatch):
    monkeypatch.setattr(websocket, "MAX_BUFFERED", 256 * 1024)
    reader, writer, _ = await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet"))
    writer.write(client_frame(TEXT, b"flood"))
    await asyncio.sleep(1)  # not reading: the server's buffer for us fills up
    got = 0
    try:
        while chunk := await asyncio.wait_for(reader.read(1 << 20), 5):
            got += len(chunk)
    except ConnectionResetError:
        pass
    assert got < 32 << 20, f"the server held {got} bytes for a peer that did not read"


async def test_a_peer_that_pings_and_never_reads_is_dropped(ws_server, monkeypatch):
    """Pongs are answers too: 8 MB of pings from a peer that reads nothing must not pile up
    as 8 MB of pongs in the server's memory."""
    monkeypatch.setattr(websocket, "MAX_BUFFERED", 64 * 1024)
    reader, writer, _ = await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet"))
    ping = client_frame(PING, b"p" * 125)
    sent = 0
    try:
        for _ in range(64):
            writer.write(ping * 1024)
            sent += len(ping) * 1024
            await asyncio.wait_for(writer.drain(), 10)
    except (ConnectionError, BrokenPipeError):
        pass
    got = 0
    try:
        while chunk := await asyncio.wait_for(reader.read(1 << 20), 2):
            got += len(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    assert got < sent // 2, f"the server held {got} bytes of pongs for a peer that did not read"


async def test_empty_fragments_do_not_grow_the_servers_memory(ws_server):
    """max_size bounds a message's bytes; 200,000 empty fragments of one message must not
    cost the server memory either (each is 6 bytes on the wire)."""
    import tracemalloc

    reader, writer, _ = await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet"))
    writer.write(client_frame(TEXT, b"", final=False))
    empty = client_frame(CONTINUATION, b"", final=False)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            writer.write(empty * 10_000)
            await writer.drain()
        writer.write(client_frame(PING, b"done?"))
        assert await asyncio.wait_for(read_frame(reader), 30) == (PONG, b"done?")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 800_000, f"{grown} bytes held for 200,000 empty fragments"
    writer.write(client_frame(CONTINUATION, b"end"))
    assert await read_frame(reader) == (TEXT, b'{"got": "end"}')


async def test_websockets_leave_room_for_plain_requests(ws_server, monkeypatch):
    """Websockets send bytes all the time, so the server's eviction of idle connections never
    frees one: at most MAX_UPGRADED of them, later handshakes get Apache's 503, and a plain
    request still gets its answer (before: 8 websockets at MAX_CONNECTIONS 8, and a GET got b'')."""
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 8)
    monkeypatch.setattr(server, "MAX_UPGRADED", 4, raising=False)
    opened = [await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet")) for _ in range(8)]
    statuses = [head.split(b"\r\n")[0] for _, _, head in opened]
    assert statuses == [b"HTTP/1.1 101 Switching Protocols"] * 4 + [
        b"HTTP/1.1 503 Service Unavailable"] * 4
    reader, _, head = opened[-1]
    assert b"\r\nServer: Apache\r\n" in head and b"\r\nConnection: close\r\n" in head
    assert head.endswith(b"\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == error_page(503)
    assert b"<title>503 Service Unavailable</title>" in error_page(503)

    reader, writer = await asyncio.open_connection("127.0.0.1", opened[0][1].get_extra_info(
        "peername")[1])
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")

    opened[0][1].close()  # a websocket that ends frees its place
    for _ in range(50):
        await asyncio.sleep(0.05)
        _, _, head = await ws_server(HANDSHAKE.replace(b"/ws", b"/quiet"))
        if head.startswith(b"HTTP/1.1 101 "):
            break
    assert head.startswith(b"HTTP/1.1 101 ")


async def test_bytes_of_an_unfinished_frame_do_not_keep_a_peer_alive(ws_server):
    """Only whole frames count for the heartbeat: a byte every 0.1 s (a 66-byte frame over
    6.6 s) is dropped at the second beat (0.6 s)."""
    reader, writer, _ = await ws_server()
    data = client_frame(TEXT, b"x" * 60)

    async def drip():
        for byte in data:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)

    dripping = asyncio.create_task(drip())
    try:
        assert await asyncio.wait_for(read_frame(reader), 5) == (PING, b"")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert not dripping.done(), "dropped only after the frame was complete"
    finally:
        dripping.cancel()


@pytest.mark.parametrize("origin,status", [
    (b"http://x", 101), (b"https://x", 101), (b"HTTP://X", 101),
    (b"http://evil.example", 403), (b"null", 403), (b"http://x.evil.example", 403),
])
async def test_only_the_pages_own_origin_may_open_a_websocket(ws_server, origin, status):
    reader, _, head = await ws_server(HANDSHAKE.replace(b"\r\n\r\n", b"\r\nOrigin: " + origin
                                                        + b"\r\n\r\n"))
    assert head.startswith(b"HTTP/1.1 %d " % status)
    if status == 403:
        body = error_page(403)  # and the connection stays open, as Apache keeps it after a 403
        assert await asyncio.wait_for(reader.readexactly(len(body)), 5) == body


def test_origins_widens_the_default_explicitly():
    from apaf.staticsite.request import parse_head

    req = parse_head(HANDSHAKE.replace(b"\r\n\r\n", b"\r\nOrigin: http://other.onion\r\n\r\n"))
    assert websocket.upgrade(req, echo, max_size=64).status == 403
    assert websocket.upgrade(req, echo, max_size=64, origins="http://other.onion").status == 101
    assert websocket.upgrade(req, echo, max_size=64, origins=("http://other",)).status == 403
    assert websocket.upgrade(req, echo, max_size=64, origins=("*",)).status == 101


async def test_peers_that_never_read_hold_the_process_budget_at_most(monkeypatch, caplog):
    """Each peer under its own MAX_BUFFERED, 16 of them held 16 backlogs (~12 MiB here, 507 MiB
    for 512 sockets flooded by the chat).  Now all together hold at most the budget (2 MiB
    here): the largest backlogs are dropped, each drop logged once without the peer's data,
    and a peer that reads keeps its socket and gets its answers."""
    from test_staticsite_backlog import non_reader, served_to_end, small_buffer_listener, unsent

    from apaf.staticsite import backlog
    monkeypatch.setattr(backlog.BUDGET, "limit", 2 << 20)
    monkeypatch.setattr(backlog.BUDGET, "low", 3 << 19)

    async def fill(ws):
        async for message in ws:
            if message == "fill":  # 768 KiB of broadcasts: under MAX_BUFFERED (1 MiB)
                for i in range(12):
                    await ws.send_text("%02d" % i + "y" * 65534)
            else:
                await ws.send_text("echo " + message)

    def route(req, now):
        return websocket.upgrade(req, fill, max_size=64, heartbeat=0) or error(404)

    sock = small_buffer_listener()
    port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(Site(None, routes={"/ws": route}), sock))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        await reader.readuntil(b"\r\n\r\n")
        stalled = []
        for i in range(16):
            stalled.append(non_reader(port, HANDSHAKE + client_frame(TEXT, b"fill")))
            await asyncio.sleep(0.05)
            writer.write(client_frame(TEXT, b"%d" % i))
            assert await asyncio.wait_for(read_frame(reader), 5) == (TEXT, b"echo %d" % i)
        held = unsent(port)
        assert held <= 2 << 20, f"{held} bytes held for 16 peers that do not read"
        got = [await served_to_end(s) for s in stalled]
        dropped = sum(n < 12 * 65536 for n in got)
        assert dropped >= 12, f"only {dropped} of 16 non-readers were dropped"
        logged = [r.getMessage() for r in caplog.records if "dropped a websocket" in r.getMessage()]
        assert len(logged) == dropped and all("y" * 16 not in m for m in logged)
        writer.write(client_frame(TEXT, b"still here"))
        assert await asyncio.wait_for(read_frame(reader), 5) == (TEXT, b"echo still here")
        writer.close()
        for s in stalled:
            s.close()
    finally:
        task.cancel()

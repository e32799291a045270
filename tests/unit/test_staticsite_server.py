"""The static site's connection handling in-process, with short timeouts (~2 s in all)."""
import asyncio
import socket

import pytest

from apaf.staticsite import server
from apaf.staticsite.site import Site
from apaf.web.apache_pages import error_page


@pytest.fixture
async def port(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "HEADER_TIMEOUT", 1.0)
    monkeypatch.setattr(server, "HEADER_TIMEOUT_MAX", 2.0)
    monkeypatch.setattr(server, "KEEPALIVE_TIMEOUT", 0.5)
    monkeypatch.setattr(server.Clock, "SWEEP_SECONDS", 0.05)
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 3)
    (tmp_path / "index.html").write_text("<p>hi</p>\n")
    sock = socket.create_server(("127.0.0.1", 0))  # as the runtime hands it over: already listening
    task = asyncio.create_task(server.serve(Site(str(tmp_path)), sock))
    yield sock.getsockname()[1]
    task.cancel()


async def read_all(reader, timeout=5):
    return await asyncio.wait_for(reader.read(), timeout)


async def test_an_incomplete_head_gets_apaches_408(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
    data = await read_all(reader)
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert data.endswith(error_page(408)) and b"Connection: close\r\n" in data


async def test_an_idle_keepalive_connection_is_closed(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    start = asyncio.get_running_loop().time()
    data = await read_all(reader)
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"<p>hi</p>\n")
    assert asyncio.get_running_loop().time() - start > 0.4   # closed by the timer, not at once


async def test_at_the_cap_the_oldest_idle_connection_makes_room(port):
    """Connections that never sent a byte (a stream flood) cannot lock a visitor out."""
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await read_all(reader)
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"<p>hi</p>\n")
    try:
        assert await read_all(held[0][0]) == b""  # the oldest idle one was closed
    except ConnectionResetError:
        pass
    for r, w in held:
        w.close()


async def test_connections_over_the_cap_are_shed_when_none_is_idle(port):
    held = []
    for _ in range(3):  # each has sent part of a request: none is idle
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\n")
        await w.drain()
        held.append((r, w))
    await asyncio.sleep(0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        assert await read_all(reader) == b""
    except ConnectionResetError:
        pass
    for r, w in held:
        w.close()


async def test_a_chunked_body_arriving_in_pieces_is_skipped_and_the_next_request_served(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.write(b"lo\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await read_all(reader)
    assert data.count(b"HTTP/1.1 200 OK") == 2 and data.count(b"<p>hi</p>") == 2


async def test_a_long_uri_still_being_sent_gets_its_414_not_a_reset(port):
    """Lingering close: the server drains what the client still sends after the 414,
    so the client neither fails writing (broken pipe) nor loses the answer (reset)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    for i in range(0, len(request), 10_000):
        writer.write(request[i:i + 10_000])
        await writer.drain()
        await asyncio.sleep(0.02)
    data = await read_all(reader)
    assert data.startswith(b"HTTP/1.1 414 Request-URI Too Long\r\n")
    assert data.endswith(error_page(414))
    writer.close()


async def test_a_lingering_connection_is_closed_when_the_client_goes_quiet(port, monkeypatch):
    monkeypatch.setattr(server, "LINGER_IDLE", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n")
    await writer.drain()
    data = await read_all(reader)  # the 414, then our side is shut down
    assert data.startswith(b"HTTP/1.1 414 ")
    await asyncio.sleep(0.5)  # the client keeps its side open and sends nothing
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        for _ in range(20):
            writer.write(b"x" * 1000)
            await writer.drain()
            await asyncio.sleep(0.05)


async def test_a_client_that_stops_reading_is_cut_off(port, tmp_path, monkeypatch):
    """A visitor that asks for a large file and never reads it does not hold the connection
    (and the open file) forever: after SEND_TIMEOUT without progress the server drops it."""
    monkeypatch.setattr(server, "SEND_TIMEOUT", 1.0)
    size = 64 << 20
    with open(tmp_path / "big.bin", "wb") as f:
        f.truncate(size)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(4)                      # not reading: the server's sends stall
    got = 0
    try:
        while chunk := await asyncio.wait_for(reader.read(1 << 20), 5):
            got += len(chunk)
    except ConnectionResetError:
        pass
    assert got < size                           # cut off, not finished once we read again


async def test_visitors_that_never_read_hold_the_process_budget_at_most(tmp_path, monkeypatch):
    """Answers up to 256 KiB are written whole; 24 visitors that ask for one and never read
    held 24 of them (~6 MiB here; 1024 could hold 256 MiB).  Now all together hold at most the
    budget (1 MiB here), the largest backlogs are dropped, and a visitor that reads still gets
    the whole file."""
    from test_staticsite_backlog import non_reader, served_to_end, small_buffer_listener, unsent

    from apaf.staticsite import backlog
    monkeypatch.setattr(backlog.BUDGET, "limit", 1 << 20)
    monkeypatch.setattr(backlog.BUDGET, "low", 768 << 10)
    body = bytes(range(256)) * 1024  # 256 KiB: served from memory (files.BODY_CACHE_MAX)
    (tmp_path / "photo.bin").write_bytes(body)
    sock = small_buffer_listener()
    port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(Site(str(tmp_path)), sock))
    request = b"GET /photo.bin HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        stalled = []
        for _ in range(24):
            stalled.append(non_reader(port, request))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        held = unsent(port)
        assert held <= 1 << 20, f"{held} bytes held for 24 visitors that do not read"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        answer = await read_all(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(body)
        got = [await served_to_end(s) for s in stalled]
        assert sum(n < len(body) for n in got) >= 20, "the non-readers were not dropped"
        for s in stalled:
            s.close()
    finally:
        task.cancel()

"""apaf.tor.relay: the SOCKS port the runtime holds and relays to tor's own port.

Plain loopback servers stand in for tor's SOCKS listener where only the byte stream matters;
the last tests run the real tor (no network needed: a SOCKS greeting is answered at once).
"""
import asyncio
import errno
import os
import signal
import socket
import time

import pytest
from python_socks import ProxyError
from python_socks.async_.asyncio import Proxy

from apaf.tor.process import Tor
from apaf.tor.relay import READ_CHUNK, WRITE_HIGH_WATER, SocksRelay, tor_socks_port

# tor's only way out is a bridge on loopback where nothing listens: nothing leaves the
# machine, yet tor opens its SOCKS port (DisableNetwork 1 would open none).
OFFLINE = ["UseBridges 1", "Bridge 127.0.0.1:9"]


async def serve(handler):
    """A loopback server standing in for tor: (server, port)."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def relay_to(port, **kwargs) -> SocksRelay:
    relay = SocksRelay.bind(**kwargs)
    await relay.start()
    relay.set_backend(port)
    return relay


async def test_bytes_pass_and_tors_eof_ends_the_stream():
    """tor never half-closes a stream it still uses: its EOF ends the client's connection too
    (the client's socket is left open here). Before, the relay kept the client half-open and
    counted it against max_connections until the client closed."""
    async def tor(reader, writer):
        tor.got = await reader.readexactly(300_003)
        writer.write(b"hello " * 50_000)
        writer.write_eof()

    server, port = await serve(tor)
    relay = await relay_to(port)
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    writer.write(b"x" * 300_000 + b"end")
    assert await asyncio.wait_for(reader.read(), 10) == b"hello " * 50_000  # then EOF
    assert tor.got == b"x" * 300_000 + b"end"
    for _ in range(100):
        if relay.active == 0:
            break
        await asyncio.sleep(0.05)
    assert relay.active == 0, "the slot stayed taken after tor ended the stream"
    writer.close()
    await relay.close()
    server.close()


async def test_client_half_close_reaches_tor_and_the_answer_comes_back():
    async def tor(reader, writer):
        request = await reader.read()   # until the client's EOF
        writer.write(request[::-1])
        await writer.drain()
        writer.close()

    server, port = await serve(tor)
    relay = await relay_to(port)
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    writer.write(b"abc")
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 5) == b"cba"
    writer.close()
    await relay.close()
    server.close()


async def test_at_most_max_connections_then_new_ones_are_closed():
    held = []

    async def tor(reader, writer):
        held.append(writer)
        await reader.read()
        writer.close()  # tor ends a stream whose client has gone

    server, port = await serve(tor)
    relay = await relay_to(port, max_connections=2)
    clients = [await asyncio.open_connection("127.0.0.1", relay.port) for _ in range(2)]
    for _ in range(50):
        if len(held) == 2:
            break
        await asyncio.sleep(0.02)
    reader, _ = await asyncio.open_connection("127.0.0.1", relay.port)
    assert await asyncio.wait_for(reader.read(), 5) == b""    # the third: closed at once
    assert relay.active == 2 and len(held) == 2
    clients[0][1].close()                                     # one ends: room for a new one
    for _ in range(50):
        if relay.active == 1:
            break
        await asyncio.sleep(0.02)
    await asyncio.open_connection("127.0.0.1", relay.port)
    for _ in range(50):
        if len(held) == 3:
            break
        await asyncio.sleep(0.02)
    assert len(held) == 3
    await relay.close()
    server.close()


async def test_a_slow_reader_pauses_the_sender_instead_of_filling_memory():
    """tor not reading: the relay stops reading the client, whose writes then block."""
    stalled = asyncio.Event()

    async def tor(reader, writer):
        await stalled.wait()

    server, port = await serve(tor)
    relay = await relay_to(port)
    _, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    chunk = b"y" * 65536
    sent = 0
    with pytest.raises(asyncio.TimeoutError):
        while sent < 200 * 2**20:            # far more than any socket buffer
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 1)
            sent += len(chunk)
    pair = next(iter(relay._pairs))
    buffered = pair.tor.get_write_buffer_size()
    print(f"client blocked after {sent / 2**20:.1f} MiB (kernel buffers); relay holds {buffered} bytes")
    # the high-water mark plus one read (before: reads of up to 256 KiB, 320 KiB per direction)
    assert buffered <= WRITE_HIGH_WATER + READ_CHUNK <= 64 * 1024
    stalled.set()
    writer.close()
    await relay.close()
    server.close()


async def test_tor_down_makes_the_socks_connect_fail_cleanly():
    relay = SocksRelay.bind(wait_for_tor=0.3)
    await relay.start()                                     # no backend: tor not (yet) up
    proxy = Proxy.from_url(f"socks5://{relay.address}", rdns=True)
    started = time.monotonic()
    with pytest.raises(ProxyError, match="closed"):  # the proxy said no: not a reset
        await proxy.connect(dest_host="example.onion", dest_port=80, timeout=10)
    assert 0.25 < time.monotonic() - started < 3
    # A backend port where nothing listens (tor died before we noticed): fails at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    relay.set_backend(dead)
    started = time.monotonic()
    with pytest.raises(ProxyError, match="closed"):  # the proxy said no: not a reset
        await proxy.connect(dest_host="example.onion", dest_port=80, timeout=10)
    assert time.monotonic() - started < 1
    for _ in range(50):                        # and the relay let go of it
        if relay.active == 0:
            break
        await asyncio.sleep(0.02)
    assert relay.active == 0
    await relay.close()


async def test_a_connection_made_while_tor_restarts_waits_for_it():
    async def tor(reader, writer):
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()

    relay = SocksRelay.bind(wait_for_tor=5)
    await relay.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
    writer.write(b"ping")                     # held in the kernel until tor is there
    await asyncio.sleep(0.3)
    server, port = await serve(tor)
    relay.set_backend(port)
    assert await asyncio.wait_for(reader.read(), 5) == b"ping"
    writer.close()
    await relay.close()
    server.close()


async def test_loopback_only_and_the_port_is_held_until_close():
    with pytest.raises(ValueError, match="loopback only"):
        SocksRelay.bind("0.0.0.0")
    relay = SocksRelay.bind()
    other = socket.socket()
    with pytest.raises(OSError) as err:
        other.bind(("127.0.0.1", relay.port))   # before start(): already ours
    assert err.value.errno == errno.EADDRINUSE
    await relay.start()
    await relay.close()
    other.bind(("127.0.0.1", relay.port))         # released by close() only
    other.close()


async def test_real_tor_behind_the_relay_across_a_crash(tmp_path):
    """The port apps use stays ours while tor is killed and restarted, and then reaches
    the new tor (whose own port changed)."""
    tor = Tor(tmp_path / "tor", join_lines=OFFLINE)
    try:
        await tor.start()
        port, first = tor.relay.port, tor.relay.backend
        assert tor.socks == f"127.0.0.1:{port}" and first and first != port
        assert await socks_greeting(port) == b"\x05\x00"
        os.kill(tor.proc.pid, signal.SIGKILL)
        await asyncio.sleep(0.05)               # tor's port is gone; ours is not
        assert tor.relay.backend is None
        with pytest.raises(OSError):
            socket.create_server(("127.0.0.1", port)).close()
        started = time.monotonic()
        assert await socks_greeting(port) == b"\x05\x00"  # waited for the new tor
        print(f"greeting answered {time.monotonic() - started:.2f} s after the kill")
        assert tor.relay.backend not in (None, first) and tor.socks == f"127.0.0.1:{port}"
        assert tor.restarts == 1
    finally:
        await tor.stop()
    socket.create_server(("127.0.0.1", port)).close()   # stop() gave the port back


async def socks_greeting(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x05\x01\x00")   # SOCKS5, one method: no authentication
    try:
        return await asyncio.wait_for(reader.readexactly(2), 20)
    finally:
        writer.close()


def test_tors_listener_answer_is_read_strictly():
    assert tor_socks_port('"127.0.0.1:41909"') == 41909
    assert tor_socks_port("") is None                    # DisableNetwork 1: no listener yet
    for odd in ('"0.0.0.0:9050"', '"127.0.0.1:1" "127.0.0.1:2"', '"unix:/x"', '"127.0.0.1:auto"'):
        with pytest.raises(ValueError, match="expected one on 127.0.0.1"):
            tor_socks_port(odd)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the other user's program")
async def test_tors_old_port_taken_before_we_saw_tor_die_gets_nothing(tmp_path):
    """tor dies; before the runtime's event loop has seen it, another uid binds tor's old
    port and an app connects. The relay must not hand that app to the other uid."""
    tor = Tor(tmp_path / "tor", join_lines=OFFLINE)
    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = None
    try:
        await tor.start()
        old = tor.relay.backend
        pid = os.fork()
        if pid == 0:  # the other user: wait for the word, take tor's old port, report bytes
            try:
                os.setgroups([])
                os.setgid(60998)
                os.setuid(60998)
                os.read(go_r, 1)
                deadline = time.monotonic() + 5
                while True:
                    try:
                        srv = socket.create_server(("127.0.0.1", old))
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                os.write(report_w, b"bound\n")
                srv.settimeout(2)
                conn, _ = srv.accept()
                conn.settimeout(5)
                os.write(report_w, b"got:" + conn.recv(100) + b"\n")
            finally:
                os._exit(0)
        os.close(report_w)
        report = os.fdopen(report_r, "rb")
        # The event loop is blocked from here to the app's connect: it cannot see tor's exit.
        os.kill(tor.proc.pid, signal.SIGKILL)
        os.write(go_w, b"x")
        assert report.readline() == b"bound\n"
        # tor is dead (its port was free) and the loop has not been told (returncode unset);
        # the owner link already says so, and the relay asks it before using a connection.
        assert tor.proc.returncode is None and not tor._alive()
        app = socket.create_connection(("127.0.0.1", tor.relay.port))
        app.sendall(b"\x05\x01\x00")          # a SOCKS5 greeting; a CONNECT would follow
        app.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=app)
        # Either refused (FIN) or, once the new tor is up, its answer: never the other uid's.
        answer = await asyncio.wait_for(reader.read(2), 20)
        assert answer in (b"", b"\x05\x00")
        writer.close()
        assert await asyncio.to_thread(report.read) in (b"", b"got:\n")  # not one byte
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        await tor.stop()

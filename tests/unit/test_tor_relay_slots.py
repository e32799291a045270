"""apaf.tor.relay: local users cannot keep the relay's slots (every app's way to tor).

Found by an attack review: 256 idle sockets took every slot and kept it, since tor drops
greeting-less connections only after ~120 s and the relay kept them half-open even then.
"""
import asyncio
import socket

from apaf.tor import relay as relay_module
from apaf.tor.relay import SocksRelay
from fixtures.polling import eventually

try:
    import resource
except ImportError:  # Windows
    resource = None


async def _echo_tor():
    async def tor(reader, writer):  # answers each chunk; ends when the client half-closes
        while data := await reader.read(4096):
            writer.write(data.upper())
        writer.close()

    server = await asyncio.start_server(tor, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_idle_squatters_are_closed_and_a_real_client_gets_through(monkeypatch):
    monkeypatch.setattr(relay_module, "GREETING_TIMEOUT", 0.5)  # 20 s in use
    server, port = await _echo_tor()
    relay = SocksRelay.bind(max_connections=4)
    await relay.start()
    relay.set_backend(port)
    squatters = [await asyncio.open_connection("127.0.0.1", relay.port) for _ in range(4)]
    for reader, _ in squatters:  # each sees EOF: the relay closed it
        assert await asyncio.wait_for(reader.read(), 30) == b""
    assert await eventually(lambda: relay.active == 0, 30)
    # Connected and sent before the relay accepts (the kernel completes the handshake), so
    # the greeting is there at the relay's first read however late the test runs.
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=10)
    sock.sendall(b"\x05\x01\x00")  # what a SOCKS5 greeting starts with
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    assert await asyncio.wait_for(reader.readexactly(3), 10) == b"\x05\x01\x00".upper()
    await asyncio.sleep(1.0)  # past GREETING_TIMEOUT: a client that spoke is kept
    writer.write(b"ok")
    assert await asyncio.wait_for(reader.readexactly(2), 10) == b"OK"
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert await eventually(lambda: relay.active == 0, 10)
    writer.close()
    for _, w in squatters:
        w.close()
    await relay.close()
    server.close()


async def test_the_fd_limit_is_raised_and_sets_the_slot_count():
    if resource is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 1024)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        relay = SocksRelay.bind()
        now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if hard != resource.RLIM_INFINITY:
            assert now == hard
        assert now > lowered or hard == lowered
        assert relay.max_connections == min(relay_module.MAX_CONNECTIONS, now // 4)
        assert relay.max_connections > 256 or now < 4 * 257
        await relay.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, resource.getrlimit(
            resource.RLIMIT_NOFILE)[0]), hard))

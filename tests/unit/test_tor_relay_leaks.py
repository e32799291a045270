"""apaf.tor.relay against clients that leave while the relay still holds bytes for tor.

A plain loopback server stands in for tor: what matters is a tor that has stopped reading a
stream (its destination does not read) while the destination's bytes still trickle back.
"""
import asyncio
import socket
import struct

from apaf.tor import relay as relay_module
from apaf.tor.relay import SocksRelay
from fixtures.polling import eventually


async def _relay_to(port: int) -> SocksRelay:
    relay = SocksRelay.bind()
    await relay.start()
    relay.set_backend(port)
    return relay


async def _client(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # reads nothing: fills fast
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def test_clients_that_reset_while_tor_stalls_leave_no_tor_connection(monkeypatch):
    """Before: the slot was freed at the client's reset, but the relay's connection to tor
    waited forever to flush what it held: one fd and up to ~320 KiB per client, no bound
    (250 such clients a round: 8 -> 257 -> 491 -> 654 -> 875 fds, RSS 25 -> 187 MB; with a
    real tor on the testnet, 20 more sockets to tor's SOCKS port per round of 20)."""
    monkeypatch.setattr(relay_module, "FLUSH_TIMEOUT", 1.0)  # 10 s in use
    tor_sides = []

    async def tor(reader, writer):  # never reads; a byte every 50 ms
        tor_sides.append(writer)
        try:
            while True:
                writer.write(b".")
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass  # the relay dropped the stream: what the test waits for

    server = await asyncio.start_server(tor, "127.0.0.1", 0)
    relay = await _relay_to(server.sockets[0].getsockname()[1])
    clients = [await _client(relay.port) for _ in range(3)]
    for _ in range(200):  # push until tor's side is stalled for every client
        progress = 0
        for sock in clients:
            try:
                progress += sock.send(b"y" * 262144)
            except BlockingIOError:
                pass
        if not progress:
            break
        await asyncio.sleep(0.02)
    assert relay.active == 3 and all(p.tor.get_write_buffer_size() for p in relay._pairs)
    for sock in clients:  # a reset: the app crashed, or a local user leaves on purpose
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert await eventually(lambda: all(w.is_closing() for w in tor_sides), 5), \
        "the relay kept its connections to tor after the clients left"
    assert relay.active == 0
    await relay.close()
    server.close()


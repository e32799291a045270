"""SOCKS relay benchmark: what apaf.tor.relay adds between an app and tor, on loopback.

Prints (figures, no pass/fail), direct vs through the relay:
  throughput   one connection streaming 256 MiB into a discarding server (MiB/s)
  round trip   1-byte ping-pong on an open connection (median of 2000, µs)
  new conn     connect, 1 byte there and back, close (median of 300, µs)
  tor greeting a new connection to a real tor's SOCKS port and its SOCKS5 method reply
               (median of 300, µs; no stream is opened: tor answers the greeting itself)
Run: `invoke bench --only socks_relay` (about 20 s).
"""
from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from apaf.tor.process import Tor
from apaf.tor.relay import SocksRelay

ROUNDS = int(os.environ.get("APAF_BENCH_RUNS") or 0) or 1
BULK = 256 * 2**20
# tor's only way out is a bridge on loopback where nothing listens: nothing leaves the
# machine, yet tor opens its SOCKS port (DisableNetwork 1 would open none).
OFFLINE = ["UseBridges 1", "Bridge 127.0.0.1:9"]


async def sink(reader, writer):
    while await reader.read(1 << 20):
        pass
    writer.write(b"done")
    await writer.drain()
    writer.close()


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def throughput(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = b"\0" * (1 << 20)
    t0 = time.perf_counter()
    for _ in range(BULK // len(chunk)):
        writer.write(chunk)
        await writer.drain()
    writer.write_eof()
    assert await reader.read() == b"done"
    writer.close()
    return BULK / 2**20 / (time.perf_counter() - t0)


async def round_trip(port: int, n: int = 2000) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        writer.write(b"x")
        await reader.readexactly(1)
        times.append(time.perf_counter() - t0)
    writer.close()
    return statistics.median(times) * 1e6


async def new_connection(port: int, payload: bytes = b"x", reply: int = 1, n: int = 300) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await reader.readexactly(reply)
        times.append(time.perf_counter() - t0)
        writer.close()
        await writer.wait_closed()
    return statistics.median(times) * 1e6


async def relayed(server) -> tuple[int, SocksRelay]:
    port = server.sockets[0].getsockname()[1]
    relay = SocksRelay.bind()
    await relay.start()
    relay.set_backend(port)
    return port, relay


def row(name: str, direct: float, via: float, unit: str) -> None:
    print(f"  {name:<13}{direct:10.1f} {unit:<6}{via:10.1f} {unit:<6}({via - direct:+.1f})")


async def main() -> None:
    print(f"{'':15}{'direct':>10}{'':7}{'relay':>10}")
    for _ in range(ROUNDS):
        bulk = await asyncio.start_server(sink, "127.0.0.1", 0)
        port, relay = await relayed(bulk)
        row("throughput", await throughput(port), await throughput(relay.port), "MiB/s")
        await relay.close()
        bulk.close()
        ping = await asyncio.start_server(echo, "127.0.0.1", 0)
        port, relay = await relayed(ping)
        row("round trip", await round_trip(port), await round_trip(relay.port), "µs")
        row("new conn", await new_connection(port), await new_connection(relay.port), "µs")
        await relay.close()
        ping.close()
    with tempfile.TemporaryDirectory() as tmp:
        tor = Tor(Path(tmp) / "tor", join_lines=OFFLINE)
        try:
            await tor.start()
            greeting = dict(payload=b"\x05\x01\x00", reply=2)
            for _ in range(ROUNDS):
                row("tor greeting", await new_connection(tor.relay.backend, **greeting),
                    await new_connection(tor.relay.port, **greeting), "µs")
        finally:
            await tor.stop()


if __name__ == "__main__":
    asyncio.run(main())

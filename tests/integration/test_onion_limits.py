"""What a hostile visitor can do through the onion, against `apaf run` on the private Tor network.

- A stream flood on one circuit is cut off by tor (ADD_ONION MaxStreams with
  MaxStreamsCloseCircuit): the flooder keeps at most MAX_STREAMS_PER_CIRCUIT connections,
  while another client, on its own circuit, keeps getting 200s.
- A 100 KB request URI gets Apache's 414 through the onion (the static site's lingering
  close keeps the answer from being destroyed by a reset), exactly as the reference
  apache2 answers it locally.
Bounded: 120 flood streams, a few seconds each; wall time ~40-70 s with the session's testnet.
"""
import asyncio
import socket

import pytest
from python_socks.async_.asyncio import Proxy

from apaf.onion import MAX_STREAMS_PER_CIRCUIT
from fixtures.runtime import apaf_run, get_via_tor
from test_examples_over_tor import EXAMPLES
from test_staticsite_fingerprint import exchange, normalized

FLOOD = 120


async def open_stream(socks, identity, onion, timeout=30):
    """A TCP stream to onion:80 through tor; streams with the same identity (SOCKS
    username) share one circuit (IsolateSOCKSAuth).  None if tor refused it."""
    host, port = socks.rsplit(":", 1)
    proxy = Proxy.from_url(f"socks5://{identity}:x@{host}:{port}", rdns=True)
    try:
        return await asyncio.wait_for(proxy.connect(onion, 80), timeout)
    except Exception:
        return None


def still_open(sock):
    """True while the app side has not closed the stream (nothing to read, no EOF)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


async def get_status(socks, identity, onion):
    sock = await open_stream(socks, identity, onion)
    assert sock is not None, "the second client could not open a stream"
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    await loop.sock_sendall(sock, f"GET / HTTP/1.1\r\nHost: {onion}\r\n"
                                  "Connection: close\r\n\r\n".encode())
    data = b""
    while chunk := await asyncio.wait_for(loop.sock_recv(sock, 65536), 30):
        data += chunk
    sock.close()
    return data.split(b"\r\n", 1)[0]


async def flood_and_visit(socks, onion):
    first = await open_stream(socks, "flooder", onion)  # builds the flooder's circuit
    assert first is not None
    rest = asyncio.gather(*[open_stream(socks, "flooder", onion) for _ in range(FLOOD - 1)])
    visits = [await get_status(socks, "visitor", onion) for _ in range(3)]
    flood = [first] + await rest
    visits += [await get_status(socks, "visitor", onion) for _ in range(3)]
    # tor closes the circuit and the app sees its connections end: give it up to 30 s on a busy machine.
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        held = [s for s in flood if s is not None and still_open(s)]
        if len(held) <= MAX_STREAMS_PER_CIRCUIT or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    for s in flood:
        if s is not None:
            s.close()
    return len(held), visits


@pytest.fixture(scope="module")
def static_site_onion(testnet, tmp_path_factory):
    with apaf_run(tmp_path_factory.mktemp("limits"), [EXAMPLES / "static-site"], testnet,
                  "--no-admin") as rt:
        onion = rt.onion("static-site")
        status, _ = get_via_tor(testnet.socks, f"http://{onion}/")
        assert status == 200
        yield onion


def test_a_stream_flood_is_cut_off_while_another_client_is_served(testnet, static_site_onion):
    held, visits = asyncio.run(flood_and_visit(testnet.socks, static_site_onion))
    assert held <= MAX_STREAMS_PER_CIRCUIT, (
        f"the flooding client still holds {held} of {FLOOD} streams to the app")
    assert visits == [b"HTTP/1.1 200 OK"] * 6


@pytest.mark.parametrize("pace", [0, 0.05], ids=["at-once", "10kb-per-50ms"])
def test_a_100kb_uri_gets_apaches_414_through_the_onion(
        testnet, static_site_onion, fingerprint_docroot, apache_server, pace):
    request = (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: "
               + static_site_onion.encode() + b"\r\n\r\n")

    async def send():
        sock = await open_stream(testnet.socks, "long-uri", static_site_onion)
        assert sock is not None
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        try:
            for i in range(0, len(request), 10_000 if pace else len(request)):
                await loop.sock_sendall(sock, request[i:i + 10_000 if pace else None])
                await asyncio.sleep(pace)
        except OSError:
            pass  # the server answered and closed before the whole request was sent
        data = b""
        try:
            while chunk := await asyncio.wait_for(loop.sock_recv(sock, 65536), 60):
                data += chunk
        except ConnectionResetError:
            pass
        sock.close()
        return data

    through_tor = asyncio.run(send())
    assert through_tor.startswith(b"HTTP/1.1 414 Request-URI Too Long\r\n"), through_tor[:200]
    reference = exchange(apache_server(fingerprint_docroot), request)
    assert normalized(through_tor, False) == normalized(reference, False)

"""The app library (`import apaf`) reaches onion services through the private Tor network."""
from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import pytest
from fixtures.runtime import ENVECHO, apaf_run, get_via_tor

import apaf

FETCHER = ENVECHO.parent / "onionfetch"


@pytest.fixture
def app_env(monkeypatch, testnet):
    """The environment the runtime gives an app, pointed at the test network's client."""
    monkeypatch.setenv("APAF_SOCKS", testnet.socks)


async def retried(attempt, tries: int = 4):
    """The first request right after publication can fail while the descriptor spreads."""
    for left in range(tries - 1, -1, -1):
        try:
            return await attempt()
        except Exception:
            if not left:
                raise
            await asyncio.sleep(2)


async def test_http_session_gets_an_onion_page(app_env, onion_site):
    async def get():
        async with apaf.http_session() as session:
            async with session.get(onion_site.url) as response:
                return response.status, await response.read()

    assert await retried(get) == (200, onion_site.body)


async def test_open_connection_talks_to_an_onion_service(app_env, onion_site):
    async def get():
        reader, writer = await apaf.open_connection(onion_site.onion, 80)
        writer.write(f"GET / HTTP/1.0\r\nHost: {onion_site.onion}\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        return data

    data = await retried(get)
    assert data.startswith(b"HTTP/1.0 200") and data.endswith(b"\r\n\r\n" + onion_site.body)


async def test_connect_returns_a_blocking_socket_to_an_onion_service(app_env, onion_site):
    def get():
        with apaf.connect(onion_site.onion, 80) as sock:
            sock.sendall(f"GET / HTTP/1.0\r\nHost: {onion_site.onion}\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        return data

    data = await retried(lambda: asyncio.to_thread(get))
    assert data.endswith(b"\r\n\r\n" + onion_site.body)


def test_app_reads_its_own_onion_address_and_fetches_another_onion(tmp_path, testnet, onion_site):
    with apaf_run(tmp_path / "data", [FETCHER], testnet) as rt:
        own = rt.onion("onionfetch")
        status, body = get_via_tor(testnet.socks, f"http://{own}/?url={quote(onion_site.url)}", timeout=120)
        assert status == 200, body
        answer = json.loads(body)
        assert answer["own"] == own
        assert answer["tor"] == 100
        assert answer["session"] == answer["stream"] == onion_site.body.decode()

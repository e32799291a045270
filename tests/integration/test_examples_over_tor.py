"""The example apps as onion services on the private Tor network, reached through Tor.

One `apaf run examples/static-site examples/chat --testnet` serves both; a client
through the network's SOCKS port (remote DNS) GETs the static site, and two chat
clients, each with its own SOCKS connection, exchange messages over websockets.
Wall time: ~20-40 s once the session's testnet is up.
"""
import asyncio
import time
from pathlib import Path

import aiohttp
from aiohttp_socks import ProxyConnector

from fixtures.runtime import apaf_run, get_via_tor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def ws_via_tor(socks, url, timeout=90):
    """Open a websocket through Tor, retrying while the descriptor is still settling."""
    deadline = time.monotonic() + timeout
    while True:
        session = aiohttp.ClientSession(
            connector=ProxyConnector.from_url(f"socks5://{socks}", rdns=True))
        try:
            ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=10),
                                          origin=url.replace("ws://", "http://", 1).split("/ws?", 1)[0])
            return session, ws
        except Exception as err:
            await session.close()
            if time.monotonic() > deadline:
                raise AssertionError(f"websocket {url} through {socks}: {err!r}") from None
            await asyncio.sleep(1)


async def next_of(ws, kind, timeout=30):
    while True:
        msg = await ws.receive_json(timeout=timeout)
        if msg["type"] == kind:
            return msg


async def chat(socks, onion):
    base = f"ws://{onion}/ws?room=tor-test"
    s1, alice = await ws_via_tor(socks, base + "&name=alice")
    s2, bob = await ws_via_tor(socks, base + "&name=bob")
    try:
        assert (await next_of(alice, "join"))["name"] in ("alice", "bob")
        await alice.send_json({"text": "hello over tor <b>!</b>"})
        got = await next_of(bob, "message")
        assert (got["name"], got["text"]) == ("alice", "hello over tor <b>!</b>")
        await bob.send_json({"text": "hi alice"})
        while (msg := await next_of(alice, "message"))["name"] != "bob":
            pass
        assert msg["text"] == "hi alice"
    finally:
        for ws, session in ((alice, s1), (bob, s2)):
            await ws.close()
            await session.close()


def test_static_site_and_chat_over_tor(testnet, tmp_path):
    apps = [EXAMPLES / "static-site", EXAMPLES / "chat"]
    with apaf_run(tmp_path / "data", apps, testnet, "--no-admin") as rt:
        site, room = rt.onion("static-site"), rt.onion("chat")
        status, body = get_via_tor(testnet.socks, f"http://{site}/")
        assert status == 200
        assert body == (EXAMPLES / "static-site" / "public" / "index.html").read_bytes()
        status, body = get_via_tor(testnet.socks, f"http://{site}/nope")
        assert status == 404 and b"<title>404 Not Found</title>" in body
        status, body = get_via_tor(testnet.socks, f"http://{room}/")
        assert status == 200 and b"/static/chat.js" in body
        asyncio.run(chat(testnet.socks, room))

"""The chat example served by its real server on loopback, with aiohttp's client (a websocket
client of another stack): rooms, history, escaping, limits, headers."""
import asyncio
import json
import re
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from apaf.staticsite.server import serve

CHAT_DIR = Path(__file__).resolve().parents[2] / "examples" / "chat"
sys.path.insert(0, str(CHAT_DIR))

import chat_app  # noqa: E402
import chat_rooms  # noqa: E402


class Client:
    """aiohttp.ClientSession bound to the chat's address."""

    def __init__(self, session, base):
        self.session, self.base = session, base

    async def get(self, path, headers=None):
        resp = await self.session.get(self.base + path, headers=headers)
        await resp.read()
        return resp

    async def ws_connect(self, path, **kwargs):
        return await self.session.ws_connect(self.base + path, **kwargs)


@pytest.fixture
async def client():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = asyncio.create_task(serve(chat_app.create_site({"history": 3, "max_message": 50}),
                                       sock))
    async with aiohttp.ClientSession() as session:
        yield Client(session, f"http://127.0.0.1:{sock.getsockname()[1]}")
    server.cancel()


async def join(client, name, room="lobby"):
    ws = await client.ws_connect(f"/ws?room={room}&name={name}")
    history, more = [], True
    while more:
        part = await ws.receive_json(timeout=5)
        assert part["type"] == "history"
        history += part["messages"]
        more = part["more"]
    joined = await ws.receive_json(timeout=5)
    assert joined == {"type": "join", "name": name, "users": joined["users"]}
    return ws, history


async def next_of(ws, kind):
    while True:
        msg = await ws.receive_json(timeout=5)
        if msg["type"] == kind:
            return msg


async def test_two_users_in_a_room_exchange_messages(client):
    alice, _ = await join(client, "alice")
    bob, _ = await join(client, "bob")
    assert (await next_of(alice, "join"))["users"] == ["alice", "bob"]
    await alice.send_json({"text": "hi bob"})
    got = await next_of(bob, "message")
    assert (got["name"], got["text"]) == ("alice", "hi bob")
    await bob.send_json({"text": "hi alice"})
    assert (await next_of(alice, "message"))["text"] == "hi bob"  # own echo first
    assert (await next_of(alice, "message"))["text"] == "hi alice"
    await bob.close()
    left = await next_of(alice, "leave")
    assert (left["name"], left["users"]) == ("bob", ["alice"])


async def test_rooms_are_separate(client):
    alice, _ = await join(client, "alice", "one")
    carol, _ = await join(client, "carol", "two")
    await alice.send_json({"text": "only for room one"})
    await next_of(alice, "message")
    await carol.send_json({"text": "room two"})
    assert (await next_of(carol, "message"))["text"] == "room two"
    resp = await client.get("/rooms")
    assert await resp.json() == [{"room": "one", "users": 1}, {"room": "two", "users": 1}]


async def test_newcomers_get_the_bounded_history(client):
    alice, _ = await join(client, "alice")
    for i in range(5):
        await alice.send_json({"text": f"message {i}"})
        await next_of(alice, "message")
    _, history = await join(client, "dave")
    assert [m["text"] for m in history] == ["message 2", "message 3", "message 4"]


async def test_user_text_is_kept_verbatim_and_the_page_never_parses_it_as_html(client):
    alice, _ = await join(client, "<b>alice</b>")
    evil = "<script>alert(1)</script><img onerror=x>"
    await alice.send_json({"text": evil})
    msg = await next_of(alice, "message")
    assert (msg["name"], msg["text"]) == ("<b>alice</b>", evil)
    script = (CHAT_DIR / "static" / "chat.js").read_text()
    assert "textContent" in script
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


async def test_limits_and_bad_input_get_clear_errors(client):
    alice, _ = await join(client, "alice")
    await alice.send_json({"text": "x" * 51})
    assert "at most 50" in (await next_of(alice, "error"))["error"]
    await alice.send_str("not json")
    assert "JSON" in (await next_of(alice, "error"))["error"]
    ws = await client.ws_connect("/ws?room=Bad Room&name=x")
    assert "room names" in (await next_of(ws, "error"))["error"]
    ws = await client.ws_connect("/ws?room=lobby&name=alice")
    assert "already in" in (await next_of(ws, "error"))["error"]
    big, _ = await join(client, "erin")
    await big.send_str('{"text": "' + "y" * 10000 + '"}')  # over the frame limit
    kinds = []
    while not big.closed and len(kinds) < 10:
        kinds.append((await big.receive(timeout=5)).type.name)
    assert big.closed, f"an oversized frame did not close the socket: {kinds}"


async def test_page_has_a_strict_csp_and_no_inline_code(client):
    resp = await client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["Server"] == "Apache"
    page = await resp.text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline <script> in the page"
    assert "<style" not in page and " style=" not in page and " on" + "click" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "external resource"
    for name in ("chat.js", "chat.css"):
        static = await client.get(f"/static/{name}")
        assert static.status == 200
        assert "Content-Security-Policy" in static.headers
        assert "http://" not in await static.text() and "https://" not in await static.text()


async def test_tor2web_and_cross_origin_websockets_are_refused(client):
    resp = await client.get("/", headers={"X-Tor2web": "1"})
    assert resp.status == 403
    resp = await client.get("/ws?room=lobby&name=mallory",
                            headers={"Origin": "http://evil.example", "Upgrade": "websocket",
                                     "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert resp.status == 403


def test_main_refuses_a_non_loopback_bind(monkeypatch):
    monkeypatch.setenv("APAF_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("APAF_PORT", "8080")
    with pytest.raises(SystemExit) as e:
        chat_app.main()
    assert "loopback" in str(e.value)


async def test_a_flooding_user_is_slowed_down(client):
    alice, _ = await join(client, "alice")
    for i in range(15):
        await alice.send_json({"text": f"flood {i}"})
    kinds = [(await alice.receive_json(timeout=5))["type"] for _ in range(15)]
    assert kinds.count("message") >= 10 and "error" in kinds


@pytest.mark.parametrize("settings,words", [
    ({"history": "many"}, ["[settings].history", "whole number"]),
    ({"max_message": 0}, ["[settings].max_message", "1 to 2000"]),
])
def test_bad_settings_name_the_entry(settings, words):
    with pytest.raises(ValueError) as e:
        chat_app.create_site(settings)
    for word in words:
        assert word in str(e.value)


async def test_a_visitor_gone_before_its_history_leaves_no_member_behind(client):
    """A close frame sent with the handshake ends the socket before the history goes out;
    such visitors must not fill the room or keep their names."""
    port = int(client.base.rsplit(":", 1)[1])
    close = b"\x88\x82" + b"\0\0\0\0" + (1000).to_bytes(2, "big")  # masked (with a zero key)
    for i in range(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /ws?room=lobby&name=ghost{i} HTTP/1.1\r\nHost: x\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode() + close)
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 101 ")
        writer.close()
    await asyncio.sleep(0.2)  # the handlers run after the 101
    assert await (await client.get("/rooms")).json() in ([], [{"room": "lobby", "users": 0}])
    ws, _ = await join(client, "ghost0")  # the name is free
    await ws.close()


async def test_history_goes_out_in_drained_parts_and_what_is_said_meanwhile_follows():
    """100 messages of 2000 "é" are 1.2 MB of JSON: one frame of that is over the 1 MiB a
    websocket may hold unsent.  They go in parts of at most HISTORY_PART (or one message),
    each after the one before drained; a message said while the joiner waits comes last."""
    hub = chat_rooms.Hub(history=1000, max_message=2000)
    nobody = lambda msg: asyncio.sleep(0)  # noqa: E731
    speakers = [await hub.join("big", f"m{i}", nobody) for i in range(11)]
    said = [f"{n:03d}" + "é" * 1997 for n in range(100)]
    for n, text in enumerate(said):
        await hub.say(speakers[n // 10], text)
    frames, drains = [], []

    async def drain():
        drains.append(len(frames))
        if len(drains) == 1:
            await hub.say(speakers[10], "live")

    await hub.join("big", "late", lambda msg: asyncio.sleep(0, frames.append(msg)), drain)
    history = [f for f in frames if f["type"] == "history"]
    assert [f["part"] for f in history] == list(range(len(history))) and len(history) > 50
    assert [f["more"] for f in history] == [True] * (len(history) - 1) + [False]
    assert drains == list(range(1, len(history))), "a part went out before the last drained"
    texts = [m["text"] for f in history for m in f["messages"]]
    assert texts == said + ["live"]
    for f in history:
        assert len(f["messages"]) == 1 or len(json.dumps(f)) <= chat_rooms.HISTORY_PART + 200
    assert frames[len(history):] == [{"type": "join", "name": "late",
                                      "users": [f"m{i}" for i in range(11)] + ["late"]}]

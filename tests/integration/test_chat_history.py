"""A joiner of a room with a long history gets all of it, in order, in frames far under the
per-socket cap (MAX_BUFFERED, 1 MiB), and a message said meanwhile comes after it.

Before: the whole history went out as one frame; 200 messages of 2000 "é" (JSON escapes them:
12 KB each) made a 2.4 MB frame, over the cap the moment it was written, so the joiner was
dropped without its history after 14 KB (at history = 10,000 such a frame is 120 MB).
Now the largest frame is one message's, 12 KB.  The chat's own process on loopback, kernel
send buffers kept small (the listening socket's SO_SNDBUF, inherited by accepted sockets) so
what the joiners have not read stays in the process, as for joiners far away over Tor.  ~1 s.
"""
import asyncio
import json
import socket

import aiohttp

from fixtures.apache import stop, wait_for_port
from fixtures.chat import start_chat

SPEAKERS, EACH = 20, 10        # each member's burst: 200 messages at once
LONG = "é" * 1995              # with a 5-character number: max_message (2000) characters


async def slow_joiner(port, name):
    """A websocket of the room "archive" whose kernel takes little at a time (small receive
    window): (reader, writer) just after the 101."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=s)
    writer.write(f"GET /ws?room=archive&name={name} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def read_frame(reader):
    """(size on the wire, JSON) of the server's next text frame."""
    b0, b1 = await reader.readexactly(2)
    n, extra = b1 & 0x7F, 0
    if n == 126:
        n, extra = int.from_bytes(await reader.readexactly(2), "big"), 2
    elif n == 127:
        n, extra = int.from_bytes(await reader.readexactly(8), "big"), 8
    assert b0 == 0x81, f"not a text frame: {b0:#x}"
    return 2 + extra + n, json.loads(await reader.readexactly(n))


async def read_history(reader, after_first_part=None):
    """Texts of the history frames, the largest frame's size, and the texts of the messages
    that came after the history, up to the joiner's own join."""
    texts, largest, parts = [], 0, 0
    while True:
        size, msg = await asyncio.wait_for(read_frame(reader), 30)
        assert msg["type"] == "history", f"a {msg['type']} frame inside the history"
        assert msg["part"] == parts
        largest, parts = max(largest, size), parts + 1
        texts += [m["text"] for m in msg["messages"]]
        if not msg["more"]:
            break
        if parts == 1 and after_first_part is not None:
            await after_first_part()
    after = []
    while True:
        _, msg = await asyncio.wait_for(read_frame(reader), 30)
        if msg["type"] == "join":
            return texts, largest, after
        if msg["type"] == "message":
            after.append(msg["text"])


async def test_joiners_get_a_long_history_whole_in_order_in_small_frames():
    listener, port, proc = start_chat({"history": 10_000, "max_message": 2000})
    drainers, writers = [], []
    try:
        wait_for_port(port, proc)
        async with aiohttp.ClientSession() as session:
            url = f"ws://127.0.0.1:{port}/ws?room=archive&name="
            members = [await session.ws_connect(url + f"m{i}") for i in range(SPEAKERS + 1)]
            heard = [asyncio.Queue() for _ in members]

            async def listen(ws, queue):  # members read all the time, as browsers do
                async for msg in ws:
                    data = json.loads(msg.data)
                    if data["type"] == "message":
                        queue.put_nowait(data["text"])

            drainers = [asyncio.create_task(listen(ws, q)) for ws, q in zip(members, heard)]

            async def say(i, text):  # and wait for it to come back: no member falls behind
                await members[i].send_json({"text": text})
                while await asyncio.wait_for(heard[i].get(), 10) != text:
                    pass

            said = []
            for i in range(SPEAKERS):
                for _ in range(EACH):
                    said.append(f"{len(said):05d}{LONG}")
                    await say(i, said[-1])

            async def speak():  # while the first joiner's history is still going out
                await say(SPEAKERS, "live")

            # Four join at once: together they want 9.6 MB, each is sent it a part at a time.
            joiners = [await slow_joiner(port, f"late{j}") for j in range(4)]
            writers = [w for _, w in joiners]
            results = await asyncio.gather(read_history(joiners[0][0], speak),
                                           *(read_history(r) for r, _ in joiners[1:]))
            for w in writers:
                w.close()
            for ws in members:
                await ws.close()
        texts, largest, after = results[0]
        assert texts + after == said + ["live"], "the first joiner's history is not whole"
        for texts, largest, after in results:
            assert texts[:len(said)] == said and len(texts) > 100
            assert largest <= 64 << 10, f"a history frame of {largest} bytes"
    finally:
        for task in drainers:
            task.cancel()
        for w in writers:
            w.close()
        listener.close()
        stop(proc)

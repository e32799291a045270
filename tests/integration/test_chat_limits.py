"""The chat example's own process under floods: connections that stay idle (a stream flood's
leftovers) are closed, one that never sends a request and one idle after its answer (~16 s:
both wait out IDLE_SECONDS together); members that never read are dropped before the process
holds their broadcasts, while members that read keep chatting (~14 s).
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from fixtures.apache import free_port, stop, wait_for_port
from fixtures.chat import start_chat

CHAT = Path(__file__).resolve().parents[2] / "examples" / "chat"
sys.path.insert(0, str(CHAT))
from chat_app import IDLE_SECONDS  # noqa: E402


def closed_after(sock, limit):
    """Seconds until the server closed sock (EOF or reset), or None within limit."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_idle_connections_to_the_chat_are_closed():
    port = free_port()
    env = dict(os.environ, APAF_BIND_HOST="127.0.0.1", APAF_PORT=str(port),
               APAF_SETTINGS=json.dumps({}), PYTHONPATH=os.pathsep.join(
                   [str(CHAT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(CHAT / "chat_app.py")], env=env)
    try:
        wait_for_port(port, proc)
        silent = socket.create_connection(("127.0.0.1", port))
        served = socket.create_connection(("127.0.0.1", port))
        served.sendall(b"GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        assert served.recv(65536).startswith(b"HTTP/1.1 200 OK")
        waited = closed_after(silent, IDLE_SECONDS + 10)
        assert waited is not None, "a connection that sent nothing is still open"
        assert closed_after(served, 10) is not None, "an idle keep-alive connection is still open"
        silent.close()
        served.close()
    finally:
        stop(proc)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def ws_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    head = bytes((0x81, 0x80 | 126)) + len(payload).to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def non_reader(port, i):
    """A member of room "flood" that speaks and never reads (a small receive window)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET /ws?room=flood&name=mute{i} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
              "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
    assert s.recv(12) == b"HTTP/1.1 101"
    s.setblocking(False)
    return s


async def test_two_users_chat_on_while_64_members_that_never_read_are_flooded_and_dropped():
    """64 members of a room speak (each message a 3 KB frame to every member) and never read.
    Before: each could hold up to 1 MiB of the chat's broadcasts, together 64 MiB (512 MiB at
    the server's 512 websockets; measured: 507 MiB, RSS 568 MiB).  Now the process holds 16 MiB
    at most for all: the chat's peak memory grows by far less than 64 MiB, the non-readers are
    dropped, and two users who read keep talking and get every message, in order.  Measured:
    peak growth 73 MiB before, 30 MiB now.
    The kernel's send buffers are kept small (fixtures.chat.start_chat)."""
    listener, port, proc = start_chat({}, backlog=256)
    mutes = []
    try:
        wait_for_port(port, proc)
        async with aiohttp.ClientSession() as session:
            url = f"ws://127.0.0.1:{port}/ws?room=flood&name="
            alice = await session.ws_connect(url + "alice")
            bob = await session.ws_connect(url + "bob")
            base = peak_rss_mib(proc.pid)
            mutes = [non_reader(port, i) for i in range(64)]
            heard = {"alice": [], "bob": []}

            async def listen(ws, who):
                async for msg in ws:
                    data = json.loads(msg.data)
                    if data["type"] == "message" and data["name"] in ("alice", "bob"):
                        heard[who].append((data["name"], data["text"]))

            listeners = [asyncio.create_task(listen(alice, "alice")),
                         asyncio.create_task(listen(bob, "bob"))]
            flood = ws_frame(json.dumps({"text": "é" * 500}).encode())  # 3 KB to each member
            said = []
            for tick in range(24):  # 12 s: the members' burst of 10, then 2 a second each
                for s in mutes:
                    try:
                        s.send(flood)
                    except (BlockingIOError, OSError):
                        pass
                if tick % 2 == 0:
                    who, ws = (("alice", alice), ("bob", bob))[tick // 2 % 2]
                    said.append((who, f"message {tick} from {who}"))
                    await ws.send_json({"text": said[-1][1]})
                await asyncio.sleep(0.5)
            await asyncio.sleep(1)
            grown = peak_rss_mib(proc.pid) - base
            async with session.get(f"http://127.0.0.1:{port}/rooms") as resp:
                rooms = {r["room"]: r["users"] for r in await resp.json()}
            await alice.close()
            await bob.close()
            for task in listeners:
                task.cancel()
        assert heard["alice"] == said and heard["bob"] == said, "a user missed a message"
        assert rooms["flood"] <= 2 + 16, f"{rooms['flood'] - 2} of 64 non-readers still in"
        assert grown < 45, f"the chat's peak memory grew by {grown:.0f} MiB under the flood"
    finally:
        for s in mutes:
            s.close()
        listener.close()
        stop(proc)

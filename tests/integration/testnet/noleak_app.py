"""An app inside the loopback-only namespace: fetch with every library API while audit hooks
log each socket connect() and name lookup this process makes; print JSON.

    python noleak_app.py http://NAME:PORT/ http://ONION/      (APAF_SOCKS set)
"""
import asyncio
import json
import sys

EVENTS = []


def audit(event, args):
    if event == "socket.connect":
        EVENTS.append(["connect", list(args[1]) if isinstance(args[1], tuple) else str(args[1])])
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        EVENTS.append([event.split(".", 1)[1], str(args[0])])


sys.addaudithook(audit)

import apaf  # noqa: E402  (after the hook, so that imports are watched too)


def http_get_raw(host):
    return f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()


async def fetch_all(url: str, onion_url: str) -> dict:
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    out = {}
    async with apaf.http_session() as session:
        async with session.get(url) as r:
            out["http_session"] = await r.text()
        async with session.get(onion_url) as r:
            out["http_session_onion"] = await r.text()
    reader, writer = await apaf.open_connection(host, int(port))
    writer.write(http_get_raw(host))
    out["open_connection"] = (await reader.read()).partition(b"\r\n\r\n")[2].decode()
    writer.close()

    def blocking():
        with apaf.connect(host, int(port)) as sock:
            sock.sendall(http_get_raw(host))
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        return data.partition(b"\r\n\r\n")[2].decode()

    out["connect"] = await asyncio.to_thread(blocking)
    return out


if __name__ == "__main__":
    bodies = asyncio.run(fetch_all(sys.argv[1], sys.argv[2]))
    print(json.dumps({"bodies": bodies, "events": EVENTS}))

"""Test app: GET /?url=U fetches U through Tor with each library API and answers JSON
{"own": own onion, "tor": bootstrap %, "session": body, "stream": body}."""
from urllib.parse import urlsplit

from aiohttp import web

import apaf


async def fetch_with_stream(url: str) -> str:
    parts = urlsplit(url)
    reader, writer = await apaf.open_connection(parts.hostname, parts.port or 80)
    writer.write(f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data.partition(b"\r\n\r\n")[2].decode()


async def fetch(request):
    url = request.query["url"]
    async with apaf.http_session() as session:
        async with session.get(url) as response:
            body = await response.text()
    return web.json_response({
        "own": apaf.onion_address(),
        "tor": apaf.tor_status().bootstrap,
        "session": body,
        "stream": await fetch_with_stream(url),
    })


def main():
    app = web.Application()
    app.router.add_get("/", fetch)
    return app

"""The smallest aiohttp app built as examples/README.md tells developers (`apaf.web.apache_like`).

A page at / (GET and POST, as Apache serves a file to both), a websocket at /ws that
is a 404 without an upgrade, and /private whose handler refuses everyone.  The lines
that make it look like Apache are the README's snippet.  Serves on
APAF_BIND_HOST:APAF_PORT (outside `apaf run`).
"""
import os

from aiohttp import web

from apaf.listen import app_socket
from apaf.web.apache_like import apache_middleware, setup_apache_like
from apaf.web.apache_run import run_app
from apaf.web.tor2web import tor2web_middleware

PAGE = b"<!DOCTYPE html><title>hello</title><p>hello</p>\n"


async def index(request):
    return web.Response(body=PAGE, content_type="text/html")


async def websocket(request):
    ws = web.WebSocketResponse()
    if not ws.can_prepare(request).ok:
        raise web.HTTPNotFound()  # to a plain request, as to Apache, there is no /ws
    await ws.prepare(request)
    async for msg in ws:
        await ws.send_str(msg.data)
    return ws


async def private(request):
    raise web.HTTPForbidden(text="members only")


host, port = os.environ.get("APAF_BIND_HOST", "127.0.0.1"), int(os.environ["APAF_PORT"])
app = web.Application(middlewares=[tor2web_middleware(), apache_middleware()])
setup_apache_like(app)
for path, handler in (("/", index), ("/ws", websocket), ("/private", private)):
    app.router.add_get(path, handler)
    app.router.add_post(path, handler)
run_app(app, app_socket(host, port), keepalive_timeout=15)

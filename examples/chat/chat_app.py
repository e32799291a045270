"""The chat example app: aiohttp web server with websockets, run by APAF as an onion service.

Entry point `chat_app:main` serves on the socket the runtime holds for it (APAF_LISTEN_FD;
outside `apaf run`: APAF_BIND_HOST:APAF_PORT, loopback only) with the
settings from APAF_SETTINGS (`history`, `max_message`).  `create_app(settings)` is the
factory tests use.  Routes: `/` the page, `/static/*` its script and style, `/rooms`
the room list (JSON), `/ws?room=R&name=N` the websocket.  Every response carries a
strict CSP (`default-src 'self'`, no inline code), tor2web requests are refused like
Apache would (apaf.web.tor2web), and websockets from another origin are refused.
Everything else (errors, unknown paths, other methods, /ws without a websocket upgrade)
answers like the stock Apache the static-site app mimics (apaf.web.apache_like).
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path

from aiohttp import WSMsgType, web

from apaf.listen import app_socket
from apaf.web.apache_like import apache_middleware, setup_apache_like
from apaf.web.apache_run import run_app
from apaf.web.tor2web import tor2web_middleware
from chat_rooms import ChatError, Hub

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_FILES = frozenset(p.name for p in STATIC.iterdir() if p.is_file())
HUB = web.AppKey("hub", Hub)
# A connection that sends no request for this long is closed (aiohttp's keep-alive timer
# also runs before the first request).  aiohttp's default, 75 s, let idle connections
# opened through the onion pile up; websockets are not affected (they have a heartbeat).
IDLE_SECONDS = 15


def csp(host: str) -> str:
    # connect-src names the websocket explicitly: 'self' alone does not cover ws:// in
    # every browser Tor Browser has been based on.
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' ws://{host}; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        resp = exc
    resp.headers["Content-Security-Policy"] = csp(request.host)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    if isinstance(resp, web.HTTPException):
        raise resp
    return resp


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def static_file(request: web.Request) -> web.FileResponse:
    # The page's own files only: a missing one is the middleware's Apache 404, where
    # add_static would answer aiohttp's empty one.
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


async def rooms(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].rooms_summary())


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin in (f"http://{request.host}", f"https://{request.host}")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-origin websocket refused")
    hub = request.app[HUB]
    # A frame carries one JSON message: at most max_message characters, each at most a
    # 6-byte \uXXXX escape; anything bigger closes the socket.
    ws = web.WebSocketResponse(max_msg_size=6 * hub.max_message + 256, heartbeat=30)
    if not ws.can_prepare(request).ok:
        raise web.HTTPNotFound()  # to a plain request, as to Apache, there is no /ws
    await ws.prepare(request)
    try:
        member = await hub.join(request.query.get("room", ""), request.query.get("name", ""),
                                ws.send_json)
    except ChatError as err:
        await ws.send_json({"type": "error", "error": str(err)})
        await ws.close()
        return ws
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            try:
                text = json.loads(msg.data).get("text")
            except (ValueError, AttributeError):
                await ws.send_json({"type": "error", "error": 'send JSON like {"text": "hi"}'})
                continue
            try:
                await hub.say(member, text)
            except ChatError as err:
                await ws.send_json({"type": "error", "error": str(err)})
    finally:
        await hub.leave(member)
    return ws


def setting(settings: dict, key: str, default: int, top: int) -> int:
    value = settings.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise ValueError(f"[settings].{key} = {value!r} in apaf.toml must be a whole number "
                         f"from 1 to {top}, e.g. {key} = {default}")
    return value


def create_app(settings: dict | None = None) -> web.Application:
    """The app; raises ValueError naming the bad [settings] entry."""
    settings = settings or {}
    hub = Hub(history=setting(settings, "history", 100, 10_000),
              max_message=setting(settings, "max_message", 500, 2000))
    app = web.Application(middlewares=[tor2web_middleware(), apache_middleware(),
                                       security_headers], client_max_size=16 * 1024)
    app[HUB] = hub
    setup_apache_like(app)
    app.router.add_get("/", index, name="index")
    app.router.add_get("/rooms", rooms, name="rooms")
    app.router.add_get("/ws", websocket, name="ws")
    app.router.add_get("/static/{name}", static_file, name="static")
    # Apache serves a file to POST as to GET (and /ws, no websocket, is its 404).
    for path, handler in (("/", index), ("/rooms", rooms), ("/ws", websocket),
                          ("/static/{name}", static_file)):
        app.router.add_post(path, handler)
    return app


def main() -> None:
    host = os.environ.get("APAF_BIND_HOST", "127.0.0.1")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        sys.exit(f"chat: APAF_BIND_HOST={host!r} is not a loopback address; the chat only "
                 "listens on 127.0.0.1 (tor connects to it there)")
    try:
        port = int(os.environ["APAF_PORT"])
        settings = json.loads(os.environ.get("APAF_SETTINGS") or "{}")
    except (KeyError, ValueError) as err:
        sys.exit(f"chat: APAF_PORT and APAF_SETTINGS must be set by the runtime ({err}); "
                 "start the app with `apaf run examples/chat`")
    try:
        app = create_app(settings)
    except ValueError as err:
        sys.exit(f"chat: {err}")
    # The socket the runtime holds for the app (apps may not bind); outside `apaf run`, its port.
    run_app(app, app_socket(host, port), keepalive_timeout=IDLE_SECONDS)


if __name__ == "__main__":
    main()

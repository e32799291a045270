"""The chat example app: websocket chat rooms, run by APAF as an onion service.

Built on APAF's own HTTP server (apaf.staticsite, the one that serves static sites like a
stock Apache) and its websockets (apaf.web.websocket), not on aiohttp: importing
aiohttp.web alone takes ~37 MB, and an app process should stay under 25 MB (issue 15).

Entry point `chat_app:main` serves on the socket the runtime holds for it (APAF_LISTEN_FD;
outside `apaf run`: APAF_BIND_HOST:APAF_PORT, loopback only) with the settings from
APAF_SETTINGS (`history`, `max_message`).  `create_site(settings)` is the factory tests
use.  Routes: `/` the page, `/static/*` its script and style, `/rooms` the room list
(JSON), `/ws?room=R&name=N` the websocket.  The chat's own answers carry a strict CSP
(`default-src 'self'`, no inline code); websockets from another origin are refused.
Everything else (tor2web requests, errors, unknown paths, other methods, OPTIONS, /ws
without a websocket upgrade) is answered by the server exactly as the stock Apache the
static-site app mimics.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from apaf.listen import app_socket
from apaf.staticsite.server import serve
from apaf.staticsite.site import Response, Site, error
from apaf.web import websocket
from apaf.web.tor2web import allowed_from_env
from chat_rooms import ChatError, Hub

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
# A connection that sends no request for this long is closed; one idle after an answer
# closes after Apache's 5 s.  Idle connections opened through the onion must not pile up;
# websockets are not affected (they have a heartbeat).
IDLE_SECONDS = 15
HEARTBEAT_SECONDS = 30


def csp(host: str) -> str:
    # connect-src names the websocket explicitly: 'self' alone does not cover ws:// in
    # every browser Tor Browser has been based on.
    ws = f" ws://{host}" if host else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self'{ws}; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


def secured(req, resp: Response) -> Response:
    """The chat's own answers get the security headers, before the type as Apache puts
    its own headers; error pages stay exactly Apache's."""
    if resp.status < 400:
        at = next((i for i, h in enumerate(resp.headers)
                   if h[0] in ("Content-Type", "Content-Language")), len(resp.headers))
        resp.headers[at:at] = [("Content-Security-Policy", csp(req.host)),
                               ("X-Content-Type-Options", "nosniff"),
                               ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")]
    return resp


def query(req, name: str) -> str:
    return next((v for k, v in parse_qsl(req.query) if k == name), "")


async def talk(hub: Hub, ws: websocket.WebSocket, room: str, name: str) -> None:
    """One member's session: join, then each text message is a JSON {"text": ...}."""
    try:
        member = await hub.join(room, name, ws.send_json, ws.drain)
    except ChatError as err:
        await ws.send_json({"type": "error", "error": str(err)})
        return
    except ConnectionResetError:
        return  # left during the join: nothing to tell, and no traceback in the log
    try:
        async for message in ws:
            if not isinstance(message, str):
                break  # binary frames are not the chat's: close
            try:
                text = json.loads(message).get("text")
            except (ValueError, AttributeError):
                await ws.send_json({"type": "error", "error": 'send JSON like {"text": "hi"}'})
                continue
            try:
                await hub.say(member, text)
            except ChatError as err:
                await ws.send_json({"type": "error", "error": str(err)})
    finally:
        await hub.leave(member)


def setting(settings: dict, key: str, default: int, top: int) -> int:
    value = settings.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise ValueError(f"[settings].{key} = {value!r} in apaf.toml must be a whole number "
                         f"from 1 to {top}, e.g. {key} = {default}")
    return value


def create_site(settings: dict | None = None, allow_tor2web: bool = False) -> Site:
    """The chat as a Site to serve; raises ValueError naming the bad [settings] entry."""
    settings = settings or {}
    hub = Hub(history=setting(settings, "history", 100, 10_000),
              max_message=setting(settings, "max_message", 500, 2000))
    # A frame carries one JSON message: at most max_message characters, each at most a
    # 6-byte \uXXXX escape; anything bigger closes the socket.
    max_frame = 6 * hub.max_message + 256

    def page(path: Path):
        return lambda req, now: secured(req, site.file(req, path, now))

    def rooms(req, now):
        body = json.dumps(hub.rooms_summary()).encode()
        return secured(req, Response(200, [("Content-Length", str(len(body))),
                                           ("Content-Type", "application/json; charset=utf-8")],
                                     body))

    def ws(req, now):
        if not websocket.same_origin(req):
            return error(403)  # a plain request to /ws too, not only a handshake (upgrade())
        room, name = query(req, "room"), query(req, "name")
        upgraded = websocket.upgrade(req, lambda sock: talk(hub, sock, room, name),
                                     max_size=max_frame, heartbeat=HEARTBEAT_SECONDS)
        return upgraded or error(404)  # to a plain request, as to Apache, there is no /ws

    routes = {"/": page(STATIC / "index.html"), "/rooms": rooms, "/ws": ws}
    routes.update({f"/static/{p.name}": page(p) for p in STATIC.iterdir() if p.is_file()})
    # No docroot: every other path is Apache's 404 (or 403 for /.ht*, /server-status).
    site = Site(None, allow_tor2web=allow_tor2web, routes=routes)
    return site  # page() reads `site` when a request comes


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
        site = create_site(settings, allow_tor2web=allowed_from_env())
    except ValueError as err:
        sys.exit(f"chat: {err}")
    try:
        # The socket the runtime holds for the app (apps may not bind); outside `apaf run`, its port.
        asyncio.run(serve(site, app_socket(host, port), header_timeout=IDLE_SECONDS))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

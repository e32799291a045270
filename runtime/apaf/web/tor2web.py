"""Refuse requests relayed by tor2web gateways, unless the user allows them.

A tor2web gateway lets ordinary browsers reach an onion service, but it sees the
traffic and marks requests with an `X-Tor2web` header.  APAF apps refuse them by
default with a 403 that looks exactly like Apache's; the runtime passes the user's
choice as APAF_ALLOW_TOR2WEB=1.  `is_tor2web(headers)` works with any mapping with
case-insensitive keys; `tor2web_middleware()` is ready for aiohttp apps:

    app = web.Application(middlewares=[tor2web_middleware()])
"""
import os

from apaf.web.apache_pages import error_page

HEADER = "X-Tor2web"
FORBIDDEN_BODY = error_page(403)


def allowed_from_env(environ=None):
    """True when the user allowed tor2web (APAF_ALLOW_TOR2WEB=1)."""
    return (environ if environ is not None else os.environ).get("APAF_ALLOW_TOR2WEB", "0") == "1"


def is_tor2web(headers):
    """True when the request carries a tor2web marker (headers: any case, or lower-cased keys)."""
    return HEADER in headers or HEADER.lower() in headers


def tor2web_middleware(allow=None):
    """aiohttp middleware answering tor2web requests with Apache's 403 page."""
    from aiohttp import web

    allowed = allowed_from_env() if allow is None else allow

    @web.middleware
    async def refuse_tor2web(request, handler):
        if not allowed and is_tor2web(request.headers):
            return web.Response(status=403, body=FORBIDDEN_BODY,
                                content_type="text/html", charset="iso-8859-1")
        return await handler(request)

    return refuse_tor2web

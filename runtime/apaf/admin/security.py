"""Middlewares and headers that protect the admin UI from the user's own browser.

Order (outermost first): Host check (DNS rebinding), Origin check (cross-site
requests: Origin must be ours, or ``null`` with ``Sec-Fetch-Site: same-origin``),
session lookup, CSRF token check, login requirement.  Handlers marked
with ``@public`` (login, first-boot link) and static files need no login; every
other route answers 303 to /login (pages), 401 (JSON) or 403 (POST) without one.
Security headers are added to every response, errors and static files included.
"""
from __future__ import annotations

import hmac

from aiohttp import web

from .keys import ORIGINS, SESSION, SESSIONS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"

HEADERS = {
    "Content-Security-Policy":
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def public(handler):
    """Mark a view as reachable without logging in."""
    handler.apaf_public = True
    return handler


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: the security headers, and no caching of pages."""
    response.headers.update(HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def check_host(request: web.Request, handler):
    # A hostile page can point its own name at 127.0.0.1 (DNS rebinding); the
    # browser then sends that name as Host.  Only the run's secret name passes, and
    # 127.0.0.1/localhost too are refused: a cookie set for them would reach every
    # app's port (keys.Origins).  The refusal must not reveal the name.
    host = request.headers.get("Host", "").lower()
    if host not in request.app[ORIGINS].hosts and not _plain_launch(request, host):
        raise web.HTTPMisdirectedRequest(text=(
            "Unexpected Host header: open the admin UI through the address apaf printed "
            "in its terminal (http://admin-….localhost:PORT/, new at every start); if "
            "you no longer have it, restart apaf."))
    return await handler(request)


def _plain_launch(request: web.Request, host: str) -> bool:
    # The browser-opening link (views/auth.launch) is the one route on the plain address:
    # it sets no cookie and, once used, only redirects to the secret name.
    port = request.app[ORIGINS].port
    return (request.method == "GET" and request.match_info.route.name == "launch"
            and host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"))


@web.middleware
async def check_origin(request: web.Request, handler):
    if request.method not in SAFE_METHODS and not _same_origin(request):
        raise web.HTTPForbidden(text="Cross-origin request refused (Origin header "
                                     "missing or foreign).")
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin", "null").lower()
    if origin != "null":
        return origin == "http://" + request.headers.get("Host", "").lower()
    # Our pages send Referrer-Policy: no-referrer, so browsers send "Origin: null" on
    # their own form posts (Fetch standard).  Then the browser's Sec-Fetch-Site,
    # which no page script can set, must say same-origin.
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


@web.middleware
async def load_session(request: web.Request, handler):
    cookie = request.app[ORIGINS].cookie
    request[SESSION] = request.app[SESSIONS].get(request.cookies.get(cookie))
    return await handler(request)


@web.middleware
async def check_csrf(request: web.Request, handler):
    if request.method not in SAFE_METHODS:
        session = request[SESSION]
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            sent = (await request.post()).get(CSRF_FIELD, "")
        if session is None or not hmac.compare_digest(str(sent), session.csrf):
            raise web.HTTPForbidden(text="Form expired or forged (CSRF token missing or "
                                         "wrong): reload the page and try again.")
    return await handler(request)


def _is_public(request: web.Request) -> bool:
    if isinstance(request.match_info.route.resource, web.StaticResource):
        return True
    handler = request.match_info.handler
    return getattr(handler, "apaf_public", False)


@web.middleware
async def require_login(request: web.Request, handler):
    session = request[SESSION]
    if (session is None or not session.authenticated) and not _is_public(request):
        if request.match_info.http_exception is not None:
            raise request.match_info.http_exception  # plain 404/405
        if request.method not in SAFE_METHODS:
            raise web.HTTPForbidden(text="Log in first.")
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(text="Log in first.")
        raise web.HTTPSeeOther(request.app.router["login"].url_for())
    return await handler(request)

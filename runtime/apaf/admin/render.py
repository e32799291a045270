"""Render a jinja2 template (autoescaped) with what every admin page needs.

Every page gets ``csrf`` (the session's token, for its forms), ``flash`` (messages
left by the previous POST, shown once), ``logged_in`` and ``path``.
"""
from __future__ import annotations

import jinja2
from aiohttp import web

from .keys import SESSION, TEMPLATES


def environment() -> jinja2.Environment:
    # autoescape=True for every template, whatever its file name: all output escaped.
    return jinja2.Environment(loader=jinja2.PackageLoader("apaf.admin", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def render(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    session = request.get(SESSION)  # absent when a check refused the request early
    html = request.app[TEMPLATES].get_template(template).render(
        csrf=session.csrf if session else "",
        flash=session.pop_flash() if session else [],
        logged_in=bool(session and session.authenticated),
        path=request.path,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def flash(request: web.Request, kind: str, message: str) -> None:
    """Leave a message for the next page this session sees (kind: ok or error)."""
    if request[SESSION] is not None:
        request[SESSION].add_flash(kind, message)


def redirect(request: web.Request, route: str) -> web.HTTPSeeOther:
    """A 303 to a named route (POST/redirect/GET), to raise."""
    return web.HTTPSeeOther(request.app.router[route].url_for())


@web.middleware
async def error_pages(request: web.Request, handler):
    """Show refusals (4xx with a plain-text reason) as a page with a way back."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type != "text/plain":
            raise
        response = render(request, "error.html", status=exc.status, reason=exc.reason,
                          message=exc.text or "")
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response

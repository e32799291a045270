"""Serve an aiohttp app so that requests aiohttp refuses get Apache's answers too.

aiohttp answers a request its parser refuses (a malformed request line or header, a
method it does not accept such as `FOO`, a line too long) before any middleware runs:
"HTTP/1.0 400", a plain-text explanation quoting the request, and
`Server: Python/3.x aiohttp/3.x`.  `run_app(app, sock, keepalive_timeout=...)`
serves app like `aiohttp.web.run_app`, with those answers replaced by Apache's page
for the same refusal: 501 for a method Apache does not know, 414 for a request line
too long, 400 otherwise; `Server: Apache`, HTTP/1.1, Apache's header order, then close.
Every answer's status line says HTTP/1.1, as Apache's does, whatever the client's version,
and `Expect` is answered as Apache does (see _expect_like_apache).

This reaches into aiohttp's request handler (handle_error, finish_response) and a
response's _write_headers; the version is pinned in ci/requirements.txt and
tests/integration/test_aiohttp_apache_like.py checks the result.
"""
import asyncio
import re
import types
from email.utils import formatdate

from aiohttp import HttpVersion11, http_exceptions, web, web_protocol, web_server

from apaf import listen
from apaf.staticsite import paths
from apaf.web.apache_like import denied
from apaf.web.apache_pages import ALLOW, FIELD_TOO_LONG, error_page

# aiohttp quotes the refused request line: b'FOO /path HTTP/1.1'
_LINE = re.compile(r"b'([^ ']*) ([^ ']*)")


def _page(exc):
    """(status, method, extra) of Apache's answer to what aiohttp's parser refused."""
    if isinstance(exc, http_exceptions.BadHttpMethod):
        found = _LINE.search(str(getattr(exc, "message", "")))
        if not found or "/" in found.group(1):
            return 400, "", ""
        checked = paths.normalize(found.group(2).split("?", 1)[0])
        if not isinstance(checked, paths.Resolved) and denied(checked[0]):
            return 403, "", ""  # Apache refuses the path before it looks at the method
        return 501, found.group(1), ""
    if isinstance(exc, http_exceptions.LineTooLong):
        if isinstance(exc.args[0], bytearray):  # the parser's URL buffer: the request line
            return 414, "", ""
        return 400, "", FIELD_TOO_LONG
    return 400, "", ""


async def _write_headers_http11(resp):
    """A response's _write_headers, with HTTP/1.1 in the status line as Apache always
    sends (aiohttp echoes the request's version: HTTP/1.0, even HTTP/2.0)."""
    writer = resp._payload_writer
    await writer.write_headers(f"HTTP/1.1 {resp.status} {resp.reason}", resp.headers)
    if resp._send_headers_immediately:
        writer.send_headers()


class _Handler(web_protocol.RequestHandler):
    async def finish_response(self, request, resp, start_time):
        if request.version != HttpVersion11:
            resp._write_headers = types.MethodType(_write_headers_http11, resp)
        return await super().finish_response(request, resp, start_time)

    def handle_error(self, request, status=500, exc=None, message=None):
        aiohttp_answer = super().handle_error(request, status, exc, message)  # logs, checks
        if status != 400:
            return aiohttp_answer
        code, method, extra = _page(exc)
        resp = _apache_answer(code, method=method, extra=extra)
        resp.force_close()
        return resp


def _apache_answer(code, method="", extra="", expect="", close=True):
    """Apache's page, its headers already in Apache's order: answered outside the app, it
    gets no on_response_prepare hook."""
    body = error_page(code, method=method, extra=extra, expect=expect)
    headers = {"Date": formatdate(usegmt=True), "Server": "Apache"}
    if code == 501:
        headers["Allow"] = ALLOW
    headers["Content-Length"] = str(len(body))
    if close:
        headers["Connection"] = "close"
    headers["Content-Type"] = "text/html; charset=iso-8859-1"
    resp = web.Response(status=code, body=body, headers=headers)
    resp._write_headers = types.MethodType(_write_headers_http11, resp)
    return resp


def _expect_like_apache(handle):
    """Apache answers an Expect other than 100-continue with its 417 page, and sends
    `100 Continue` only when it reads a body; aiohttp sends it to any request and a
    plain-text 417."""
    async def handle_request(request):
        expect = request.headers.get("Expect")
        if expect is None or (expect.lower() == "100-continue" and request.body_exists):
            return await handle(request)
        if expect.lower() != "100-continue":
            return _apache_answer(417, expect=expect, close=not request.keep_alive)
        headers = request.headers.copy()
        del headers["Expect"]
        clone = request.clone(headers=headers)
        resp = await handle(clone)
        await resp.prepare(clone)  # with the clone: it carries the app's prepare hooks
        return resp
    return handle_request


class _Server(web_server.Server):
    def __call__(self):
        return _Handler(self, loop=self._loop, **self._kwargs)


class ApacheRunner(web.AppRunner):
    """web.AppRunner whose connections answer parser refusals and Expect like Apache."""

    async def _make_server(self):
        server = await super()._make_server()
        server.__class__ = _Server
        server.request_handler = _expect_like_apache(server.request_handler)
        return server


async def _serve(app, sock, **kwargs):
    runner = ApacheRunner(app, handle_signals=True, access_log=None, **kwargs)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        listen.mark_ready()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_app(app, sock, **kwargs):
    """Serve app on the listening socket `sock` (apaf.listen.app_socket) until SIGINT/SIGTERM
    (kwargs: RequestHandler settings such as keepalive_timeout)."""
    try:
        asyncio.run(_serve(app, sock, **kwargs))
    except (web.GracefulExit, KeyboardInterrupt):
        pass

"""Serve an aiohttp app so that requests aiohttp refuses get Apache's answers too.

aiohttp answers a request its parser refuses (a malformed request line or header, a
method it does not accept such as `FOO`, a line too long) before any middleware runs:
"HTTP/1.0 400", a plain-text explanation quoting the request, and
`Server: Python/3.x aiohttp/3.x`.  `run_app(app, host, port, keepalive_timeout=...)`
serves app like `aiohttp.web.run_app`, with those answers replaced by Apache's page
for the same refusal: 501 for a method Apache does not know, 414 for a request line
too long, 400 otherwise; `Server: Apache`, HTTP/1.1, Apache's header order, then close.

This reaches into aiohttp's request handler (its handle_error); the version is pinned
in ci/requirements.txt and tests/integration/test_chat_fingerprint.py checks it.
"""
import asyncio
import re
from email.utils import formatdate

from aiohttp import http_exceptions, web, web_protocol, web_server

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


class _Refused(web.Response):
    """An answer written as HTTP/1.1, whatever version the refused request had."""

    async def _write_headers(self):
        writer = self._payload_writer
        await writer.write_headers(f"HTTP/1.1 {self.status} {self.reason}", self.headers)


class _Handler(web_protocol.RequestHandler):
    def handle_error(self, request, status=500, exc=None, message=None):
        aiohttp_answer = super().handle_error(request, status, exc, message)  # logs, checks
        if status != 400:
            return aiohttp_answer
        code, method, extra = _page(exc)
        body = error_page(code, method=method, extra=extra)
        headers = {"Date": formatdate(usegmt=True), "Server": "Apache"}
        if code == 501:
            headers["Allow"] = ALLOW
        headers.update({"Content-Length": str(len(body)), "Connection": "close",
                        "Content-Type": "text/html; charset=iso-8859-1"})
        resp = _Refused(status=code, body=body, headers=headers)
        resp.force_close()
        return resp


class _Server(web_server.Server):
    def __call__(self):
        return _Handler(self, loop=self._loop, **self._kwargs)


class ApacheRunner(web.AppRunner):
    """web.AppRunner whose connections answer parser refusals like Apache."""

    async def _make_server(self):
        server = await super()._make_server()
        server.__class__ = _Server
        return server


async def _serve(app, host, port, **kwargs):
    runner = ApacheRunner(app, handle_signals=True, access_log=None, **kwargs)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_app(app, host, port, **kwargs):
    """Serve app on host:port until SIGINT/SIGTERM (kwargs: RequestHandler settings such as
    keepalive_timeout)."""
    try:
        asyncio.run(_serve(app, host, port, **kwargs))
    except (web.GracefulExit, KeyboardInterrupt):
        pass

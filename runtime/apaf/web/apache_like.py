"""Make an aiohttp app answer like the stock Apache the static-site app mimics.

aiohttp gives itself away on everything an app does not answer on purpose: its own
404/405 texts, "Server: Python/3.x aiohttp/3.x", headers in its own order, websocket
errors.  `setup_apache_like(app)` makes those answers Apache's (Debian's apache2 with
ServerTokens Prod, ServerSignature Off, serving files):

    app = web.Application(middlewares=[tor2web_middleware(), apache_middleware()])
    setup_apache_like(app)

- errors raised by handlers or the router become Apache's error pages (apache_pages),
  HEAD ones without a length, as Apache sends them;
- the head is checked as Apache does (Host, more than 100 fields, a `#` are 400), then
  the path (paths.normalize: a bad `%`, `..` above / is 400,
  %2F and %00 404), then methods in Apache's order: TRACE 405 (TraceEnable Off), OPTIONS 200 with
  Allow, unknown methods 501, PUT/DELETE/... 405 on any path;
- /.ht* and /server-status answer 403, as a stock server does to anyone but 127.0.0.1;
- `Server: Apache`, with Date and Server first and Content-Type last.
What it cannot change: an app's own 200 answers (their headers are the app's), and
requests aiohttp's parser refuses before any app code runs (a malformed request line
or header, or a method aiohttp's parser does not accept such as `FOO`, still gets
aiohttp's plain-text 400 with an aiohttp Server header), and aiohttp drops a connection
whose client half-closes before the answer, where Apache answers.  A missing file
under an `add_static` route is aiohttp's empty 404 (FileResponse decides it while
sending, after the middleware): serve known files from a handler instead.
"""
import logging
import posixpath

from aiohttp import web

from apaf.staticsite import paths
from apaf.staticsite.mimetypes import describe
from apaf.staticsite.request import LIMIT_FIELDS, HttpError, fix_host
from apaf.web.apache_pages import ALLOW, KNOWN_METHODS, REASONS, TOO_MANY_FIELDS, error_page

PAGE_TYPE = "text/html; charset=iso-8859-1"
_LAST = ("content-type", "content-language")  # mod_mime's, after every other header
log = logging.getLogger(__name__)
_PAGE = web.ResponseKey("apaf_apache_page", bool)


def apache_page(status, method="", allow=None, extra=""):
    """An aiohttp Response carrying Apache's error page for status (and its Allow)."""
    status = status if status in REASONS else (500 if status >= 500 else 400)
    headers = {"Allow": allow} if allow is not None else {}
    resp = web.Response(status=status, body=error_page(status, method=method, extra=extra),
                        headers=headers, content_type="text/html", charset="iso-8859-1")
    resp[_PAGE] = True
    return resp


def _options(path):
    name = "index.html" if path.endswith("/") else posixpath.basename(path)
    ctype, _, language = describe(name)
    resp = web.Response(status=200, headers={"Allow": ALLOW})
    resp.headers["Content-Length"] = "0"
    if ctype:
        resp.headers["Content-Type"] = ctype
    if language:
        resp.headers["Content-Language"] = language
    return resp


def denied(segments):
    """Decoded path segments Apache refuses with 403 (stock <FilesMatch "^\\.ht">, and
    mod_status's Require local as a remote client meets it)."""
    return bool(segments) and (segments[-1].startswith(b".ht")
                               or segments[0] == paths.LOCAL_ONLY.encode())


def _refused_head(request):
    """Apache's 400 for what it refuses while reading the head (aiohttp lets it pass)."""
    if len(request.raw_headers) > LIMIT_FIELDS:
        return apache_page(400, extra=TOO_MANY_FIELDS)
    if "#" in request.raw_path:
        return apache_page(400)
    if request.version >= (1, 1) and len(request.headers.getall("Host", ())) != 1:
        return apache_page(400)
    try:
        for host in request.headers.getall("Host", ()):
            fix_host(host)
    except HttpError:
        return apache_page(400)
    return None


def apache_middleware():
    """aiohttp middleware: Apache's method checks and error pages around the handlers."""
    @web.middleware
    async def apache_like(request, handler):
        method = request.method
        refused = _refused_head(request)
        if refused is not None:
            return refused
        if request.raw_path == "*":
            return web.Response(status=200, headers={"Content-Length": "0"})
        checked = paths.normalize(request.raw_path.split("?", 1)[0])
        if isinstance(checked, paths.Resolved):  # a bad escape, `..` above /, %2F or %00
            return apache_page(400 if checked.kind == paths.BAD_REQUEST else 404)
        if method == "TRACE":
            return apache_page(405, method="TRACE", allow="")
        if denied(checked[0]):
            return apache_page(403)
        if method == "OPTIONS":
            return _options(request.path)
        if method not in KNOWN_METHODS:
            return apache_page(501, method=method, allow=ALLOW)
        if method not in ("GET", "HEAD", "POST"):
            return apache_page(405, method=method, allow=ALLOW)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return apache_page(exc.status, method=method,
                               allow=ALLOW if exc.status == 405 else None)
        except Exception:
            log.exception("error handling %s %s", method, request.path)
            return apache_page(500)

    return apache_like


async def apache_headers(request, resp):
    """on_response_prepare: Server: Apache; Date and Server first, the type last."""
    h = resp.headers
    date = h.pop("Date", None)
    h.popall("Server", None)
    rest = list(h.items())
    h.clear()
    if date is not None:
        h["Date"] = date
    h["Server"] = "Apache"
    last = [(k, v) for k, v in rest if k.lower() in _LAST]
    last.sort(key=lambda kv: _LAST.index(kv[0].lower()))
    for key, value in rest:
        if key.lower() in _LAST:
            continue
        if key.lower() == "content-length" and request.method == "HEAD" and resp.get(_PAGE):
            continue  # Apache's HEAD error answers carry no length
        h.add(key, value)
    for key, value in last:
        h.add(key, value)


def setup_apache_like(app):
    """Register apache_headers on app (add apache_middleware() to its middlewares too)."""
    app.on_response_prepare.append(apache_headers)

"""Decide Apache's answer to one parsed request for a static docroot.

`Site(root, server_name, allow_tor2web).respond(request, now)` returns a `Response`:
status, headers in Apache's order (Date, Server and the connection headers are added
by the connection, which knows about keep-alive), a body or a file slice to send.
The order of checks follows Apache's request phases, which decides e.g. that
`FOO /missing` is 501 but `DELETE /missing` is 405 and `POST /dir-without-index/` 404.

An app serves its own answers with `routes`: {"/path": handler(request, now) -> Response}.
A route is reached only by GET, HEAD and POST, after every check above, so what the app
does not answer on purpose (other methods, OPTIONS, TRACE, /.ht*, bad paths, tor2web) is
Apache's answer; `site.file(request, path, now)` answers with a file as Apache serves
it.  root=None serves no files beyond the routes.  A handler may return a 101 Response
whose `upgrade` takes the connection over (apaf.web.websocket).
"""
import os
from urllib.parse import quote

from apaf.staticsite import paths
from apaf.staticsite.files import GZIP_STREAM_MIN, FileCache, GzipStream
from apaf.staticsite.mimetypes import describe
from apaf.staticsite.ranges import check_conditions, if_range_matches, parse_ranges
from apaf.web.apache_pages import ALLOW, KNOWN_METHODS, error_page
from apaf.web.tor2web import is_tor2web

ERROR_TYPE = "text/html; charset=iso-8859-1"
# The byterange filter hands on what it has every 32 parts, so longer multipart answers
# go out without a Content-Length.
MULTIPART_FLUSH = 32
CHUNKED = ("Transfer-Encoding", "chunked")
# Statuses after which Apache closes the connection (ap_status_drops_connection).
DROPS_CONNECTION = frozenset((400, 408, 411, 413, 414, 500, 501, 503))
_PATH_SAFE = "/$-_.+!*'(),:@&=~;"
ROUTE = "route"  # a Resolved kind: a path the app answers (its `path` is the route's key)


class Response:
    __slots__ = ("status", "headers", "body", "file", "close", "chunked", "page", "stream",
                 "upgrade")

    def __init__(self, status, headers, body=b"", file=None, chunked=False, page=False,
                 stream=None, upgrade=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.file = file          # (path, offset, count) when the body is sent from disk
        self.close = status in DROPS_CONNECTION
        self.chunked = chunked
        self.page = page          # an error document: a HEAD answer carries no length
        # A body sent piece by piece, never whole in memory: bytes, (path, offset, count)
        # and GzipStream items.  Its headers say "Transfer-Encoding: chunked" where there
        # is no Content-Length; the connection frames it (or closes, for HTTP/1.0).
        self.stream = stream
        # A 101's new protocol: upgrade(transport) returns an object with asyncio.Protocol's
        # data_received, eof_received, connection_lost, pause_writing and resume_writing.
        self.upgrade = upgrade


def error(status, method="", location="", expect="", extra="", allow=None):
    body = error_page(status, method=method, location=location, expect=expect, extra=extra)
    headers = []
    if allow is not None:
        headers.append(("Allow", allow))
    if location:
        headers.append(("Location", location))
    if status == 416:
        return Response(416, [("Content-Type", ERROR_TYPE)], body, chunked=True, page=True)
    headers += [("Content-Length", str(len(body))), ("Content-Type", ERROR_TYPE)]
    return Response(status, headers, body, page=True)


def accepts_gzip(value):
    """mod_deflate's test: any Accept-Encoding token equal to gzip (q-values ignored)."""
    return any(t.split(";")[0].strip().lower() == "gzip" for t in value.split(","))


class Site:
    def __init__(self, root, server_name="localhost", allow_tor2web=False, routes=None):
        self.resolver = paths.Resolver(root)
        self.routes = dict(routes or {})
        self.files = FileCache()
        self.server_name = server_name
        self.allow_tor2web = allow_tor2web
        # Apache draws one multipart boundary per process: a random 64-bit number in
        # hex without leading zeros (so now and then shorter than 16 digits). os.urandom is
        # what secrets.randbits(64) uses, without the hmac and OpenSSL that secrets imports.
        self.boundary = "%x" % int.from_bytes(os.urandom(8), "big")

    def respond(self, req, now):
        if not self.allow_tor2web and is_tor2web(req.headers):
            return error(403)
        expect = req.headers.get("expect")
        if expect is not None and expect.lower() != "100-continue":
            return error(417, expect=expect)
        if req.target == "*":
            return Response(200, [("Content-Length", "0")])
        if req.method == "CONNECT":
            return error(405, method="CONNECT", allow=ALLOW)
        res = self._resolve(req.path)
        kind, method = res.kind, req.method
        if kind == paths.BAD_REQUEST:
            return error(400)
        if kind == paths.ENCODED_NOT_FOUND:
            return error(404)
        if method == "TRACE":
            return error(405, method="TRACE", allow="")
        if kind == paths.FORBIDDEN:
            return error(403)
        if kind == paths.REDIRECT:
            location = self._location(req)
            return error(301, location=location)
        if method == "OPTIONS":
            return self._options(res)
        if method not in KNOWN_METHODS:
            return error(501, method=method, allow=ALLOW)
        if method not in ("GET", "HEAD", "POST"):
            return error(405, method=method, allow=ALLOW)
        if kind == ROUTE:
            return self.routes[res.path](req, now)
        if kind == paths.NOT_FOUND:
            return error(404)
        if kind == paths.NO_INDEX:
            return error(403 if method != "POST" else 404)
        try:
            return self._file(req, res, now)
        except FileNotFoundError:  # removed since it was resolved (cached up to 1 s)
            return error(404)
        except PermissionError:
            return error(403)

    def _resolve(self, raw_path):
        if self.routes:
            norm = paths.normalize(raw_path)
            if not isinstance(norm, paths.Resolved):
                segments, trailing = norm
                names = [os.fsdecode(s) for s in segments]
                key = "/" + "/".join(names) + ("/" if trailing and names else "")
                if key in self.routes:
                    # OPTIONS types a route by its last name, as Apache would the file
                    return paths.Resolved(ROUTE, key, name=names[-1] if names else "index.html")
        return self.resolver.resolve(raw_path)

    def file(self, req, path, now):
        """Apache's answer to req with the file at path (validators, ranges, gzip)."""
        try:
            res = paths.Resolved(paths.FILE, path, os.stat(path), os.path.basename(path))
            return self._file(req, res, now)
        except FileNotFoundError:
            return error(404)
        except PermissionError:
            return error(403)

    def _location(self, req):
        path = req.path
        segments = paths.normalize(path)
        if not isinstance(segments, paths.Resolved):
            path = "/" + "/".join(quote(s, safe=_PATH_SAFE) for s in segments[0])
        host = req.host or self.server_name
        query = "?" + req.query if req.query else ""
        return f"http://{host}{path}/{query}"

    def _options(self, res):
        headers = [("Allow", ALLOW), ("Content-Length", "0")]
        if res.kind == paths.NO_INDEX:
            headers.append(("Content-Type", "httpd/unix-directory"))
            return Response(200, headers)
        ctype, _, language = describe(res.name)
        if ctype:
            headers.append(("Content-Type", ctype))
        if language:
            headers.append(("Content-Language", language))
        return Response(200, headers)

    def _file(self, req, res, now):
        entry = self.files.get(res.path, res.st, res.name)
        if entry.body is None:
            os.stat(entry.path)  # sent later by sendfile: make sure it is still there
        h = req.headers
        gzip = entry.deflate and accepts_gzip(h.get("accept-encoding", ""))
        etag = entry.etag(now)
        last_modified = entry.last_modified(now)
        validators = [("Last-Modified", last_modified), ("ETag", etag),
                      ("Accept-Ranges", "bytes")]
        ctype = entry.type_headers
        cond = check_conditions(h, etag, min(entry.mtime, now), now, req.method)
        if cond == 304:
            return Response(304, validators)
        if cond == 412:
            return Response(412, validators + [("Content-Length", "0")] + ctype)
        if gzip and entry.size > GZIP_STREAM_MIN:
            # mod_deflate passes output on before the end of a file this large: Apache
            # then sends no length and ignores Range.  Compressed off the event loop.
            headers = [validators[0], ("ETag", entry.etag(now, gzip=True)), validators[2],
                       ("Vary", "Accept-Encoding"), ("Content-Encoding", "gzip"), CHUNKED]
            source = entry.gz() if entry.body is not None else GzipStream(entry.path)
            if req.method == "HEAD":
                return Response(200, headers + ctype)
            return Response(200, headers + ctype, stream=[source])
        if gzip:
            body, size, path = entry.gz(), None, None
            size = len(body)
            validators[1] = ("ETag", entry.etag(now, gzip=True))
            encoding = [("Vary", "Accept-Encoding"), ("Content-Encoding", "gzip")]
        else:
            body, size, path = entry.body, entry.size, entry.path
            encoding = []
        vary = [("Vary", "Accept-Encoding")] if entry.deflate and not gzip else []
        head_only = req.method == "HEAD"
        ranges = None
        rng = h.get("range")
        if rng is not None and req.version is not None and (
                "if-range" not in h or if_range_matches(h["if-range"], etag, last_modified)):
            ranges = parse_ranges(rng, size)
        if ranges == []:
            return error(416)
        if ranges and len(ranges) == 1:
            first, last = ranges[0]
            count = last - first + 1
            crange = [("Content-Range", f"bytes {first}-{last}/{size}")]
            if gzip:
                headers = validators + encoding + crange + [("Content-Length", str(count))]
            else:
                headers = validators + [("Content-Length", str(count))] + vary + crange
            return self._with_body(206, headers + ctype, body, path, first, count, head_only)
        if ranges:
            return self._multipart(validators, encoding, vary, entry, body, path, size,
                                   ranges, head_only)
        headers = validators + encoding + [("Content-Length", str(size))] + vary + ctype
        return self._with_body(200, headers, body, path, 0, size, head_only)

    @staticmethod
    def _with_body(status, headers, body, path, offset, count, head_only):
        if head_only:
            return Response(status, headers)
        if body is not None:
            if offset or count != len(body):
                body = body[offset:offset + count]
            return Response(status, headers, body)
        return Response(status, headers, file=(path, offset, count))

    def _multipart(self, validators, encoding, vary, entry, body, path, size, ranges,
                   head_only):
        """The multipart/byteranges answer, as a stream: file parts are read from disk
        while they are sent (parse_ranges keeps their sum within the file's size)."""
        type_line = f"Content-type: {entry.ctype}\r\n" if entry.ctype else ""
        parts, length = [], 0
        for first, last in ranges:
            head = (f"\r\n--{self.boundary}\r\n{type_line}"
                    f"Content-range: bytes {first}-{last}/{size}\r\n\r\n").encode()
            data = body[first:last + 1] if body is not None else (path, first, last - first + 1)
            parts += [head, data]
            length += len(head) + last - first + 1
        parts.append(f"\r\n--{self.boundary}--\r\n".encode())
        length += len(parts[-1])
        framing = CHUNKED if len(ranges) > MULTIPART_FLUSH else ("Content-Length", str(length))
        headers = validators + encoding + [framing] + vary + [
            ("Content-Type", f"multipart/byteranges; boundary={self.boundary}")] + [
            h for h in entry.type_headers if h[0] == "Content-Language"]
        return Response(206, headers, stream=None if head_only else parts)

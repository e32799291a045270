"""Parse an HTTP/1.x request head the way Apache 2.4 does (HttpProtocolOptions Strict).

`parse_head(data)` takes the bytes of one request head and returns a `Request`, or
raises `HttpError` carrying the status and page arguments Apache would answer with.
`find_head_end(buffer)` tells the connection when a whole head has arrived and
enforces Apache's size limits while it is still arriving.  Hand-written rather than
llhttp/h11 because what matters here is which malformed inputs get which error
(400 vs 414 vs 501, with which page), and those parsers decide differently.
"""
import re

from apaf.web.apache_pages import FIELD_TOO_LONG, TOO_MANY_FIELDS

LIMIT_LINE = 8190          # LimitRequestLine / LimitRequestFieldSize
LIMIT_FIELDS = 100         # LimitRequestFields
LIMIT_BLANK_LINES = 10     # empty lines Apache skips before a request line

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(rb"^HTTP/([0-9])\.([0-9])$")
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_URI_BAD = re.compile(rb"[\x00-\x20\x7f]")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]+))?$")


class HttpError(Exception):
    """A request Apache would refuse: `status` plus arguments for its error page."""

    def __init__(self, status, extra="", method="", expect="", head=False, unframed=False):
        super().__init__(status)
        self.status = status
        self.extra = extra
        self.method = method
        self.expect = expect
        self.head = head  # the request was a HEAD: the answer carries no body and no length
        self.unframed = unframed  # answered without Content-Length (ends with the close)


class Request:
    """One parsed request; header names are lower-cased, repeated headers joined by ', '."""

    __slots__ = ("method", "target", "version", "headers", "path", "query", "host")

    def __init__(self, method, target, version, headers, host):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.host = host
        path = target
        if target.startswith("http://") or target.startswith("https://"):
            rest = target.split("://", 1)[1]
            slash = rest.find("/")
            self.host = rest[:slash] if slash >= 0 else rest
            path = rest[slash:] if slash >= 0 else "/"
        path, _, self.query = path.partition("?")
        self.path = path

    @property
    def http09(self):
        return self.version is None


def fix_host(value):
    """Apache's fix_hostname: lower-case, one trailing dot dropped, port 80 dropped.

    Raises HttpError(400) for what Apache refuses: empty, bad characters, "..",
    an empty or out-of-range port.
    """
    m = _HOST.match(value)
    if not m or ".." in m.group(1):
        raise HttpError(400)
    name, port = m.group(1).lower(), m.group(2)
    if not name.startswith("[") and name.endswith("."):
        name = name[:-1]
    if port is None or int(port) == 80:
        return name
    if int(port) > 65535:
        raise HttpError(400)
    return f"{name}:{int(port)}"


def find_head_end(buf):
    """Return the end offset of the first complete head in buf, or -1 if incomplete.

    Raises HttpError when the bytes received so far already break a limit (a request
    line or header field longer than 8190 bytes, more than 100 fields, more than 10
    empty lines first), as Apache does while reading, so a client can never make the
    buffer grow past those limits.
    """
    start = 0
    while buf.startswith(b"\r\n", start):
        start += 2
    if start > 2 * LIMIT_BLANK_LINES:
        raise HttpError(400)
    eol = buf.find(b"\n", start)
    if eol < 0:
        if len(buf) - start > LIMIT_LINE:
            raise HttpError(414)
        return -1
    if eol - start > LIMIT_LINE:
        raise HttpError(414)
    line = buf[start:eol]
    if not line.endswith(b"\r"):
        raise HttpError(400)
    if line.count(b" ") == 1:
        return eol + 1  # HTTP/0.9 (GET only, else 400): no headers follow
    pos = eol + 1
    fields = 0
    while True:
        eol = buf.find(b"\n", pos)
        if eol < 0:
            if len(buf) - pos > LIMIT_LINE:
                raise HttpError(400, extra=FIELD_TOO_LONG)
            return -1
        if eol - pos > LIMIT_LINE:
            raise HttpError(400, extra=FIELD_TOO_LONG)
        if eol == pos + 1 and buf[pos] == 13:
            return eol + 1
        if buf[pos] not in (32, 9):  # a folded line continues a field
            fields += 1
            if fields > LIMIT_FIELDS:
                raise HttpError(400, extra=TOO_MANY_FIELDS)
        pos = eol + 1


# Apache's default LimitRequestBody (2.4.54 and later): a longer chunked body is 413.
LIMIT_BODY = 1 << 30
# A run of complete chunks of 1 to 15 bytes each (one hex digit, no extension), matched
# by the regex engine in one call: parsing such chunks one by one in Python took ~5 s for
# a 1 MiB body of 1-byte chunks, CPU an attacker gets for 6 MB of traffic.
_TINY_CHUNKS = re.compile(b"(?:" + b"|".join(
    b"%s\r\n.{%d}\r\n" % (d, int(d, 16)) for d in (
        b"123456789abcdefABCDEF"[i:i + 1] for i in range(21))) + b")+", re.DOTALL)


class ChunkedBody:
    """Skips one chunked request body as it arrives, keeping only a few integers.

    `consume(buf)` eats what it can from the start of buf (the caller deletes that many
    bytes) and returns (used, done).  Each byte is looked at once however the body is
    split into packets, so a body of many tiny chunks costs time linear in its size
    (rescanning the buffer from the start on every packet was quadratic).
    Hand-written rather than taken from an HTTP library because the answers must be
    Apache's: HttpError(400, unframed=True) for a malformed chunk (Apache answers
    without a Content-Length while it reads the body), 413 past LIMIT_BODY.
    """

    SIZE, DATA, DATA_END, TRAILER = range(4)

    def __init__(self):
        self.state = self.SIZE
        self.left = 0    # data bytes of the current chunk still to skip
        self.total = 0

    def consume(self, buf):
        pos = 0
        while True:
            if self.state == self.DATA:
                n = min(self.left, len(buf) - pos)
                pos += n
                self.left -= n
                if self.left:
                    return pos, False
                self.state = self.DATA_END
            elif self.state == self.DATA_END:
                if len(buf) - pos < 2:
                    return pos, False
                if buf[pos:pos + 2] != b"\r\n":
                    raise HttpError(400, unframed=True)
                pos += 2
                self.state = self.SIZE
            else:
                if self.state == self.SIZE:
                    run = _TINY_CHUNKS.match(buf, pos)
                    if run:
                        # counted by their size on the wire: an upper bound of the data
                        self.total += run.end() - pos
                        if self.total > LIMIT_BODY:
                            raise HttpError(413)
                        pos = run.end()
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > LIMIT_LINE:
                        raise HttpError(400, unframed=True)
                    return pos, False
                line, pos = buf[pos:eol], eol + 2
                if self.state == self.TRAILER:
                    if not line:  # the empty line after optional trailer fields
                        return pos, True
                    continue
                size = line.split(b";")[0].strip()
                if not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
                    raise HttpError(400, unframed=True)
                self.left = int(size, 16)
                self.total += self.left
                if self.total > LIMIT_BODY:
                    raise HttpError(413)
                self.state = self.DATA if self.left else self.TRAILER


def parse_head(head):
    """Parse one complete head (as delimited by find_head_end) into a Request."""
    try:
        return _parse(head)
    except HttpError as err:
        err.head = head.lstrip(b"\r\n").startswith(b"HEAD ")
        raise


def _parse(head):
    while head.startswith(b"\r\n"):
        head = head[2:]
    lines = head.split(b"\r\n")
    request_line = lines[0]
    parts = request_line.split(b" ")
    if len(parts) == 2 and parts[0] == b"GET" and parts[1].startswith(b"/"):
        if _URI_BAD.search(parts[1]):
            raise HttpError(400)
        return Request("GET", parts[1].decode("latin-1"), None, {}, "")
    if len(parts) != 3 or not all(parts):
        raise HttpError(400)
    method, target, version = parts
    if not _TOKEN.match(method) or _URI_BAD.search(target):
        raise HttpError(400)
    m = _VERSION.match(version)
    if not m:
        raise HttpError(400)
    ver = (int(m.group(1)), int(m.group(2)))
    if ver < (1, 0):
        raise HttpError(400)
    if not (target.startswith(b"/") or target == b"*" or method == b"CONNECT"
            or target.lower().startswith((b"http://", b"https://"))):
        raise HttpError(400)
    if b"#" in target:
        raise HttpError(400)
    if target == b"*" and method != b"OPTIONS":
        raise HttpError(400)
    headers = {}
    fields = 0
    last = None
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in (32, 9):  # obs-fold: continues the previous field
            if last is None:
                raise HttpError(400)
            headers[last] += " " + line.strip().decode("latin-1")
            continue
        fields += 1
        if fields > LIMIT_FIELDS:
            raise HttpError(400, extra=TOO_MANY_FIELDS)
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.match(name) or _CTL.search(value):
            raise HttpError(400)
        key = name.decode("latin-1").lower()
        value = value.strip(b" \t").decode("latin-1")
        headers[key] = headers[key] + ", " + value if key in headers else value
        last = key
    if ver >= (1, 1) and "host" not in headers:
        raise HttpError(400)
    host = fix_host(headers["host"]) if "host" in headers else ""
    te = headers.get("transfer-encoding")
    if te is not None and te.lower().rsplit(",", 1)[-1].strip() != "chunked":
        raise HttpError(400)
    cl = headers.get("content-length")
    if cl is not None and not cl.isdigit():
        raise HttpError(400)
    req = Request(method.decode("latin-1"), target.decode("latin-1"), ver, headers, host)
    if req.host != host:  # an absolute URI names the host
        req.host = fix_host(req.host)
    return req

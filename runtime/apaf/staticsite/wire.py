"""An answer as it goes on the wire: Apache's keep-alive decision, its connection headers and
header order, chunked framing.  Pure functions of the request and the Response; the connection
(apaf.staticsite.server) owns the socket, the counters and the timeouts it passes in.
"""
from apaf.staticsite.site import CHUNKED
from apaf.web.apache_pages import REASONS


def tokens(value):
    return {t.strip().lower() for t in value.split(",")}


def keepalive(req, resp, served, max_keepalive):
    """Whether Apache keeps the connection open after answering req with resp, `served`
    answers into it."""
    # Apache closes after `Expect: 100-continue` when it has not read the body.
    if req.http09 or req.headers.get("expect", "").lower() == "100-continue":
        return False
    if resp.chunked and req.version < (1, 1):
        return False
    if CHUNKED in resp.headers and req.version < (1, 1) and req.method != "HEAD":
        return False  # no length and no chunking: the end of the body is the close
    if "transfer-encoding" in req.headers and "content-length" in req.headers:
        return False  # a smuggling attempt: Apache answers, then closes
    wanted = tokens(req.headers.get("connection", ""))
    wanted = "close" not in wanted if req.version >= (1, 1) else "keep-alive" in wanted
    return wanted and served < max_keepalive


def render(resp, req, date, keep, left, head_only, keepalive_timeout):
    """(head, body, file, framed) of resp to req (None: a request that did not parse).

    keep: the connection stays open (`left` more answers allowed on it); head_only: send no
    body whatever the method; framed: the streamed body goes out in chunked framing."""
    headers = list(resp.headers)
    head_request = head_only or (req is not None and req.method == "HEAD")
    framed = CHUNKED in headers  # a streamed body without a length
    if framed and (head_request or req is None or req.version < (1, 1)):
        headers.remove(CHUNKED)
        framed = False
    conn = []
    if resp.upgrade is not None:
        pass  # a 101's Connection and Upgrade headers are its own
    elif keep:
        if "keep-alive" in tokens(req.headers.get("connection", "")):
            conn = [("Keep-Alive", f"timeout={int(keepalive_timeout)}, max={left}"),
                    ("Connection", "Keep-Alive")]
    else:
        conn = [("Connection", "close")]
    body, file = resp.body, resp.file
    if head_request:
        body, file = b"", None
        if resp.page:
            headers = [h for h in headers if h[0] != "Content-Length"]
    elif resp.chunked:
        if req is None or req.version >= (1, 1):
            headers.insert(0, ("Transfer-Encoding", "chunked"))
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    # Apache writes Content-Type (and Content-Language) last, after Connection.
    at = next((i for i, h in enumerate(headers)
               if h[0] in ("Content-Type", "Content-Language")), len(headers))
    headers[at:at] = conn
    lines = [b"HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Apache\r\n"
             % (resp.status, REASONS[resp.status].encode(), date)]
    lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
    lines.append(b"\r\n")
    return b"".join(lines), body, file, framed

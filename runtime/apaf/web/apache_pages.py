"""Apache 2.4's built-in error documents, byte for byte (ServerSignature Off).

`error_page(status, ...)` returns the exact body Apache sends for that status;
`REASONS` holds Apache's reason phrases (which differ from Python's for 414 and 416),
`KNOWN_METHODS` the methods it knows, `ALLOW` its Allow header for a static file.
Used by the static-site app and by the tor2web refusal, so that an APAF onion
service's errors cannot be told apart from a stock Apache's.
"""
import random

# html.escape(s, quote=True), without importing the html package: it loads the 2,231 HTML5
# entity names (~0.45 MB), and the static-site process needs none of them.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def _escape(text):
    return text.translate(_ESCAPES)

REASONS = {
    101: "Switching Protocols", 200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
    304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable", 417: "Expectation Failed",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
}

# Methods Apache 2.4 knows (others are 501).
KNOWN_METHODS = frozenset((
    "GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "CONNECT", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL",
    "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE",
    "MKACTIVITY", "BASELINE-CONTROL", "MERGE"))


def draw_allow():
    """Apache lists allowed methods from a hash table seeded when it starts: one order for
    the life of the server, another after each restart."""
    return ",".join(random.SystemRandom().sample(("GET", "POST", "OPTIONS", "HEAD"), 4))


ALLOW = draw_allow()  # a static file's methods, in this process's order

_MESSAGES = {
    400: "<p>Your browser sent a request that this server could not understand.<br />\n{extra}</p>",
    403: "<p>You don't have permission to access this resource.</p>",
    404: "<p>The requested URL was not found on this server.</p>",
    405: "<p>The requested method {method} is not allowed for this URL.</p>",
    408: "<p>Server timeout waiting for the HTTP request from the client.</p>",
    414: "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>",
    416: ("<p>None of the range-specifier values in the Range\nrequest-header field overlap"
          " the current extent\nof the selected resource.</p>"),
    417: ("<p>The expectation given in the Expect request-header\nfield could not be met by"
          " this server.\nThe client sent<pre>\n    Expect: {expect}\n</pre>\n</p>"
          "<p>Only the 100-continue expectation is supported.</p>"),
    500: ("<p>The server encountered an internal error or\nmisconfiguration and was unable to"
          " complete\nyour request.</p>\n<p>Please contact the server administrator at \n"
          " [no address given] to inform them of the time this error occurred,\n and the"
          " actions you performed just before this error.</p>\n<p>More information about"
          " this error may be available\nin the server error log.</p>"),
    501: "<p>{method} not supported for current URL.<br />\n</p>",
    503: ("<p>The server is temporarily unable to service your\nrequest due to maintenance"
          " downtime or capacity\nproblems. Please try again later.</p>"),
    301: '<p>The document has moved <a href="{location}">here</a>.</p>',
    302: '<p>The document has moved <a href="{location}">here</a>.</p>',
}

# The optional second line of a 400 page, as Apache words it.
FIELD_TOO_LONG = "Size of a request header field exceeds server limit."
TOO_MANY_FIELDS = "The number of request header fields exceeds this server's limit."


def error_page(status, method="", location="", expect="", extra=""):
    """The body Apache sends for `status`; arguments fill the pages that quote the request."""
    reason = REASONS[status]
    message = _MESSAGES[status].format(
        method=_escape(method), location=_escape(location), expect=_escape(expect), extra=extra)
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
        '"http://www.w3.org/TR/html4/strict.dtd">\n'
        f"<html><head>\n<title>{status} {reason}</title>\n</head><body>\n"
        f"<h1>{reason}</h1>\n{message}\n</body></html>\n"
    ).encode("latin-1", "replace")

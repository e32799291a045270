"""The raw requests the fingerprint test sends to Apache and to the static-site app.

Each entry is (name, bytes).  Requests are sent as-is over a socket (so malformed ones
are possible) and the client then half-closes, so each connection yields every response
the server sends before it closes.  Paths refer to the tree `make_docroot` builds.
"""

H = b"Host: example.onion\r\n"


def get(path, *headers, method=b"GET", version=b"HTTP/1.1", host=True):
    head = method + b" " + path + b" " + version + b"\r\n" + (H if host else b"")
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


BATTERY = [
    # ordinary files and the directory index
    ("root", get(b"/")),
    ("index", get(b"/index.html")),
    ("head-root", get(b"/", method=b"HEAD")),
    ("css", get(b"/style.css")),
    ("png", get(b"/image.png")),
    ("txt", get(b"/notes.txt")),
    ("js", get(b"/app.js")),
    ("json", get(b"/data.json")),
    ("svg", get(b"/logo.svg")),
    ("unknown-ext", get(b"/blob.zzz")),
    ("no-ext", get(b"/README")),
    ("empty-file", get(b"/empty.html")),
    ("big-binary", get(b"/big.bin")),
    ("query", get(b"/?a=1&b=2")),
    ("pct-encoded", get(b"/%69ndex.html")),
    ("utf8-name", get(b"/caf%C3%A9.html")),
    ("space-dir", get(b"/my%20dir/")),
    ("double-slash", get(b"//index.html")),
    ("dot-segment", get(b"/sub/../index.html")),
    ("absolute-uri", get(b"http://example.onion/index.html")),
    # mod_mime: languages and charsets from extensions
    ("language", get(b"/page.html.en", b"Accept-Encoding: gzip")),
    ("language-keepalive", get(b"/seite.de.html", b"Connection: keep-alive")),
    ("two-languages", get(b"/both.en.de.html")),
    ("language-no-type", get(b"/only.en", b"Connection: keep-alive")),
    ("charset", get(b"/latin.latin1.txt")),
    ("charset-html", get(b"/koi.html.koi8-r")),
    ("gz-extension-last", get(b"/archive.html.fr.gz", b"Accept-Encoding: gzip")),
    ("language-304", get(b"/page.html.en", b"If-None-Match: *")),
    ("language-options", get(b"/page.html.en", method=b"OPTIONS")),
    ("language-ranges", get(b"/page.html.en", b"Range: bytes=0-1,4-5")),
    ("language-range", get(b"/page.html.en", b"Range: bytes=0-1")),
    ("language-412", get(b"/page.html.en", b'If-Match: "x"')),
    # compression (mod_deflate): Vary, gzip body and ETag suffix, small-body threshold
    ("html-no-ae", get(b"/long.html")),
    ("html-gzip", get(b"/long.html", b"Accept-Encoding: gzip, deflate, br")),
    ("html-gzip-head", get(b"/long.html", b"Accept-Encoding: gzip", method=b"HEAD")),
    ("html-deflate-only", get(b"/long.html", b"Accept-Encoding: deflate")),
    ("small-gzip", get(b"/index.html", b"Accept-Encoding: gzip")),
    ("css-gzip", get(b"/long.css", b"Accept-Encoding: gzip")),
    ("png-gzip", get(b"/image.png", b"Accept-Encoding: gzip")),
    # directories
    ("dir-no-slash", get(b"/sub")),
    ("dir-no-slash-query", get(b"/sub?x=1")),
    ("dir-index", get(b"/sub/")),
    ("dir-no-index", get(b"/noindex/")),
    ("dir-no-index-no-slash", get(b"/noindex")),
    ("file-trailing-slash", get(b"/index.html/")),
    ("file-path-info", get(b"/index.html/extra")),
    # errors
    ("not-found", get(b"/nope.html")),
    ("not-found-dir", get(b"/nope/")),
    ("htaccess", get(b"/.htaccess")),
    ("htpasswd-sub", get(b"/sub/.htpasswd")),
    ("hidden-file", get(b"/.hidden")),
    ("symlink-out", get(b"/outside")),
    ("traversal", get(b"/../../etc/passwd")),
    ("traversal-encoded", get(b"/%2e%2e/%2e%2e/etc/passwd")),
    ("traversal-sub", get(b"/sub/../../etc/passwd")),
    ("encoded-slash", get(b"/sub%2Findex.html")),
    ("encoded-nul", get(b"/index.html%00")),
    ("bad-escape", get(b"/%zz")),
    ("backslash", get(b"/sub\\index.html")),
    ("no-leading-slash", get(b"index.html")),
    ("long-uri", get(b"/" + b"a" * 9000)),
    ("long-header", get(b"/", b"X-Long: " + b"b" * 9000)),
    ("many-headers", get(b"/", *[b"X-H%d: v" % i for i in range(120)])),
    # methods
    ("post", get(b"/", b"Content-Length: 0", method=b"POST")),
    ("put", get(b"/index.html", b"Content-Length: 0", method=b"PUT")),
    ("delete", get(b"/index.html", method=b"DELETE")),
    ("patch", get(b"/index.html", b"Content-Length: 0", method=b"PATCH")),
    ("options", get(b"/", method=b"OPTIONS")),
    ("options-star", get(b"*", method=b"OPTIONS")),
    ("options-missing", get(b"/nope.html", method=b"OPTIONS")),
    ("trace", get(b"/", method=b"TRACE")),
    ("connect", get(b"example.onion:443", method=b"CONNECT")),
    ("unknown-method", get(b"/", method=b"FOO")),
    ("lowercase-method", get(b"/", method=b"get")),
    ("propfind", get(b"/", method=b"PROPFIND")),
    # protocol versions and connection handling
    ("http10", get(b"/", version=b"HTTP/1.0", host=False)),
    ("http10-keepalive", get(b"/", b"Connection: keep-alive", version=b"HTTP/1.0")),
    ("http11-keepalive", get(b"/", b"Connection: keep-alive")),
    ("http11-close", get(b"/", b"Connection: close")),
    ("http09", b"GET /\r\n"),
    ("http2-version", get(b"/", version=b"HTTP/2.0")),
    ("http3-version", get(b"/", version=b"HTTP/3.0")),
    ("bad-version", get(b"/", version=b"HTTP/1.x")),
    ("lowercase-version", get(b"/", version=b"http/1.1")),
    ("pipelined", get(b"/index.html") + get(b"/style.css") + get(b"/nope")),
    ("pipelined-keepalive", get(b"/index.html", b"Connection: keep-alive") * 3),
    ("keepalive-limit", get(b"/style.css", b"Connection: keep-alive") * 101),
    ("keepalive-limit-silent", get(b"/style.css") * 101),
    ("leading-crlf", b"\r\n\r\n" + get(b"/")),
    ("ten-blank-lines", b"\r\n" * 10 + get(b"/")),
    ("eleven-blank-lines", b"\r\n" * 11 + get(b"/")),
    ("bare-lf-blank-lines", b"\n\n" + get(b"/")),
    ("many-folded-lines", get(b"/", b"X-A: a", *[b" b"] * 150)),
    ("bare-lf", b"GET / HTTP/1.1\nHost: example.onion\n\n"),
    # malformed requests
    ("no-host", get(b"/", host=False)),
    ("two-hosts", get(b"/", b"Host: other.onion")),
    ("garbage", b"garbage\r\n\r\n"),
    ("binary-garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 20 + b"\r\n\r\n"),
    ("extra-spaces", b"GET  /  HTTP/1.1\r\n" + H + b"\r\n"),
    ("tab-separator", b"GET\t/\tHTTP/1.1\r\n" + H + b"\r\n"),
    ("header-no-colon", get(b"/", b"NoColonHere")),
    ("header-space-before-colon", get(b"/", b"X-Bad : v")),
    ("header-folded", get(b"/", b"X-A: one", b" two")),
    ("header-nul", get(b"/", b"X-A: a\x00b")),
    ("header-empty-name", get(b"/", b": v")),
    ("header-long-ok", get(b"/", b"X-Long: " + b"c" * 8000)),
    ("http09-missing", b"GET /nope\r\n"),
    ("http09-big", b"GET /huge.bin\r\n"),
    ("http09-post", b"POST /\r\n"),
    ("http09-head", b"HEAD /\r\n"),
    ("te-and-cl", get(b"/", b"Content-Length: 5", b"Transfer-Encoding: chunked",
                      method=b"POST") + b"0\r\n\r\n"),
    ("two-content-lengths", get(b"/", b"Content-Length: 0", b"Content-Length: 0",
                                method=b"POST")),
    ("negative-content-length", get(b"/", b"Content-Length: -1", method=b"POST")),
    ("fragment", get(b"/index.html#top")),
    ("raw-utf8-uri", get(b"/caf\xc3\xa9.html")),
    ("raw-space-uri", b"GET /my dir/ HTTP/1.1\r\n" + H + b"\r\n"),
    ("https-absolute-uri", get(b"https://example.onion/index.html")),
    ("ftp-absolute-uri", get(b"ftp://example.onion/index.html")),
    ("long-method", get(b"/", method=b"X" * 300)),
    ("method-with-slash", get(b"/", method=b"GE/T")),
    ("encoded-query-slash", get(b"/?a=%2F..%2F")),
    ("encoded-question-mark", get(b"/index.html%3Fx")),
    ("semicolon-path", get(b"/index.html;jsessionid=1")),
    ("bad-content-length", get(b"/", b"Content-Length: abc", method=b"POST")),
    ("chunked-get", get(b"/", b"Transfer-Encoding: chunked") + b"0\r\n\r\n"),
    ("chunked-post", get(b"/index.html", b"Transfer-Encoding: chunked", method=b"POST")
     + b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
     + get(b"/style.css")),
    ("chunked-bad-size", get(b"/", b"Transfer-Encoding: chunked", method=b"POST")
     + b"zz\r\nhello\r\n0\r\n\r\n"),
    ("chunked-bad-terminator", get(b"/", b"Transfer-Encoding: chunked", method=b"POST")
     + b"5\r\nhelloXX0\r\n\r\n"),
    ("bad-transfer-encoding", get(b"/", b"Transfer-Encoding: gzip")),
    ("expect-continue", get(b"/", b"Expect: 100-continue")),
    ("expect-other", get(b"/", b"Expect: something")),
    ("bad-host", get(b"/", b"Host: exa mple", host=False)),
    ("host-with-port", get(b"/sub", b"Host: example.onion:8080", host=False)),
    ("host-upper-case", get(b"/sub", b"Host: EXAMPLE.Onion", host=False)),
    ("host-trailing-dot", get(b"/sub", b"Host: example.onion.", host=False)),
    ("host-two-dots", get(b"/sub", b"Host: example.onion..", host=False)),
    ("host-port-80", get(b"/sub", b"Host: example.onion:80", host=False)),
    ("host-empty-port", get(b"/sub", b"Host: example.onion:", host=False)),
    ("host-bad-port", get(b"/sub", b"Host: example.onion:99999", host=False)),
    ("host-ipv6", get(b"/sub", b"Host: [::1]:8080", host=False)),
    ("host-empty", get(b"/sub", b"Host: ", host=False)),
    ("absolute-uri-redirect", get(b"http://Other.Onion:80/sub")),
    # conditional requests and ranges (validators of index.html are filled in by the test)
    ("if-modified-since-future", get(b"/index.html", b"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT")),
    ("if-modified-since-past", get(b"/index.html", b"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")),
    ("if-modified-since-bad", get(b"/index.html", b"If-Modified-Since: yesterday")),
    ("if-none-match-star", get(b"/index.html", b"If-None-Match: *")),
    ("if-none-match-other", get(b"/index.html", b'If-None-Match: "abc-123"')),
    ("if-match-other", get(b"/index.html", b'If-Match: "abc-123"')),
    ("if-match-star", get(b"/index.html", b"If-Match: *")),
    ("if-unmodified-since-past", get(b"/index.html", b"If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT")),
    ("sendfile", get(b"/huge.bin")),
    ("sendfile-keepalive", get(b"/huge.bin", b"Connection: keep-alive") + get(b"/index.html")),
    ("sendfile-http10", get(b"/huge.bin", version=b"HTTP/1.0")),
    ("sendfile-range", get(b"/huge.bin", b"Range: bytes=400000-400009")),
    ("sendfile-head", get(b"/huge.bin", method=b"HEAD")),
    ("range-first", get(b"/big.bin", b"Range: bytes=0-9")),
    ("range-suffix", get(b"/big.bin", b"Range: bytes=-5")),
    ("range-open", get(b"/big.bin", b"Range: bytes=102390-")),
    ("range-unsatisfiable", get(b"/big.bin", b"Range: bytes=200000-")),
    ("range-bad-unit", get(b"/big.bin", b"Range: items=0-9")),
    ("range-malformed", get(b"/big.bin", b"Range: bytes=9-0")),
    ("range-html-gzip", get(b"/long.html", b"Range: bytes=0-9", b"Accept-Encoding: gzip")),
    ("if-range-other", get(b"/big.bin", b"Range: bytes=0-9", b'If-Range: "abc-123"')),
]



def _ranges(*specs):
    return b"Range: bytes=" + b",".join(specs)


# Apache's byterange filter and its default limits (MaxRanges 200, MaxRangeOverlaps 20,
# MaxRangeReversals 20; parts longer than the file together: the whole file, 200).
BATTERY += [
    ("ranges-longer-than-the-file", get(b"/big.bin", _ranges(*[b"0-50000,50002-99999"] * 30))),
    ("ranges-32", get(b"/big.bin", _ranges(*[b"%d-%d" % (i * 10, i * 10 + 1) for i in range(32)]))),
    ("ranges-33-no-length", get(b"/big.bin", _ranges(*[b"%d-%d" % (i * 10, i * 10 + 1)
                                                        for i in range(33)]))),
    ("ranges-33-http10", get(b"/big.bin", _ranges(*[b"%d-%d" % (i * 10, i * 10 + 1)
                                                     for i in range(33)]), version=b"HTTP/1.0")),
    ("ranges-200", get(b"/big.bin", _ranges(*[b"%d-%d" % (i * 10, i * 10 + 1) for i in range(200)]))),
    ("ranges-201", get(b"/big.bin", _ranges(*[b"%d-%d" % (i * 10, i * 10 + 1) for i in range(201)]))),
    ("ranges-200-sendfile", get(b"/huge.bin", _ranges(*[b"%d-%d" % (i * 2000, i * 2000 + 999)
                                                         for i in range(200)]))),
    ("ranges-200-head", get(b"/huge.bin", _ranges(*[b"%d-%d" % (i * 2000, i * 2000 + 999)
                                                     for i in range(200)]), method=b"HEAD")),
    ("ranges-20-overlaps", get(b"/big.bin", _ranges(*[b"0-5"] * 21))),
    ("ranges-21-overlaps", get(b"/big.bin", _ranges(*[b"0-5"] * 22))),
    ("ranges-21-reversals", get(b"/big.bin", _ranges(*[b"%d-%d" % (1000 - i * 10, 1009 - i * 10)
                                                        for i in range(22)]))),
    ("ranges-unsatisfiable-skipped", get(b"/big.bin", _ranges(b"0-0,2-2", *[b"999999-"] * 250))),
    ("ranges-zero-open-wins", get(b"/big.bin", _ranges(b"5-9,0-,20-30"))),
    ("ranges-blank", get(b"/big.bin", b"Range: bytes= 0-1, 4-5")),
    ("ranges-plus", get(b"/big.bin", _ranges(b"+0-1,+4-5"))),
    ("ranges-minus-zero", get(b"/big.bin", _ranges(b"-0"))),
    ("ranges-empty-items", get(b"/big.bin", _ranges(b"0-1,,4-5,"))),
    ("ranges-leading-comma", get(b"/big.bin", _ranges(b",0-1,4-5"))),
    ("ranges-overflow", get(b"/big.bin", _ranges(b"0-99999999999999999999"))),
    ("ranges-superscript-digit", get(b"/big.bin", "Range: bytes=0-\u00b2".encode("latin-1"))),
    ("ranges-reversed-merge", get(b"/big.bin", _ranges(b"10-100,0-9"))),
    ("ranges-empty-file", get(b"/empty.html", _ranges(b"0-1"))),
    ("ranges-gzip-multipart", get(b"/words.html", _ranges(b"0-9,20-29"), b"Accept-Encoding: gzip")),
    # mod_deflate streams files over 64 KiB: no length, Range ignored
    ("gzip-large", get(b"/large.html", b"Accept-Encoding: gzip")),
    ("gzip-large-range", get(b"/large.html", b"Accept-Encoding: gzip", _ranges(b"0-9"))),
    ("gzip-large-head", get(b"/large.html", b"Accept-Encoding: gzip", method=b"HEAD")),
    ("gzip-large-http10", get(b"/large.html", b"Accept-Encoding: gzip", version=b"HTTP/1.0")),
    ("gzip-large-keepalive", get(b"/large.html", b"Accept-Encoding: gzip") + get(b"/index.html")),
    ("gzip-64k", get(b"/64k.html", b"Accept-Encoding: gzip")),
    ("gzip-64k-plus-one", get(b"/64k1.html", b"Accept-Encoding: gzip")),
    # a chunked body of tiny chunks, skipped, then the next request
    ("chunked-many-tiny", get(b"/index.html", b"Transfer-Encoding: chunked", method=b"POST")
     + b"1\r\nx\r\n" * 20000 + b"0\r\n\r\n" + get(b"/style.css")),
    ("chunked-trailer", get(b"/index.html", b"Transfer-Encoding: chunked", method=b"POST")
     + b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n" + get(b"/style.css")),
    ("chunked-body-2mib", get(b"/index.html", b"Transfer-Encoding: chunked", method=b"POST")
     + b"100000\r\n" + b"y" * 0x100000 + b"\r\n" + b"100000\r\n" + b"y" * 0x100000
     + b"\r\n0\r\n\r\n" + get(b"/style.css")),
]

# Stock mod_status: <Location /server-status> Require local, met here as a remote client.
BATTERY += [
    ("server-status", get(b"/server-status")),
    ("server-status-auto", get(b"/server-status?auto")),
    ("server-status-below", get(b"/server-status/x")),
    ("server-status-double-slash", get(b"//server-status/")),
    ("server-status-escaped", get(b"/%73erver-status")),
    ("server-status-dot-segment", get(b"/server-status/../index.html")),
    ("server-status-prefix", get(b"/server-statusx")),
    ("server-status-case", get(b"/Server-Status")),
    ("server-status-head", get(b"/server-status", method=b"HEAD")),
    ("server-status-options", get(b"/server-status", method=b"OPTIONS")),
    ("server-status-post", get(b"/server-status", b"Content-Length: 0", method=b"POST")),
    ("server-status-unknown-method", get(b"/server-status", method=b"FOO")),
    ("server-status-trace", get(b"/server-status", method=b"TRACE")),
    ("server-info", get(b"/server-info")),
]

# What Tor Browser (Firefox ESR 128) sends for a page and its favicon.
TOR_BROWSER = [
    b"User-Agent: Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    b"Accept-Language: en-US,en;q=0.5",
    b"Accept-Encoding: gzip, deflate, br, zstd",
    b"Connection: keep-alive",
    b"Upgrade-Insecure-Requests: 1",
    b"Sec-Fetch-Dest: document",
    b"Sec-Fetch-Mode: navigate",
    b"Sec-Fetch-Site: none",
    b"Sec-Fetch-User: ?1",
    b"Priority: u=0, i",
]
BATTERY += [
    ("tor-browser-page", get(b"/", *TOR_BROWSER)),
    ("tor-browser-page-and-assets", get(b"/long.html", *TOR_BROWSER) + get(b"/long.css", *TOR_BROWSER)
     + get(b"/favicon.ico", *TOR_BROWSER)),
    ("tor-browser-dir", get(b"/sub", *TOR_BROWSER)),
]


def validator_requests(etag, last_modified):
    """Requests that quote index.html's own validators (known only once it is served)."""
    e, lm = etag.encode(), last_modified.encode()
    return [
        ("if-none-match-same", get(b"/index.html", b"If-None-Match: " + e)),
        ("if-none-match-list", get(b"/index.html", b'If-None-Match: "x-1", ' + e)),
        ("if-none-match-keepalive", get(b"/index.html", b"If-None-Match: " + e,
                                        b"Connection: keep-alive")),
        ("if-none-match-gzip-etag", get(b"/index.html", b'If-None-Match: ' + e[:-1] + b'-gzip"',
                                        b"Accept-Encoding: gzip")),
        ("tor-browser-reload", get(b"/", *TOR_BROWSER[:-1], b"If-Modified-Since: " + lm,
                                   b"If-None-Match: " + e, b"Cache-Control: max-age=0")),
        ("if-none-match-post", get(b"/index.html", b"If-None-Match: " + e,
                                   b"Content-Length: 0", method=b"POST")),
        ("if-modified-since-same", get(b"/index.html", b"If-Modified-Since: " + lm)),
        ("if-match-same", get(b"/index.html", b"If-Match: " + e)),
        ("if-match-other-keepalive", get(b"/index.html", b'If-Match: "abc"',
                                         b"Connection: keep-alive")),
        ("if-range-same", get(b"/index.html", b"Range: bytes=0-9", b"If-Range: " + e)),
        ("if-range-date", get(b"/index.html", b"Range: bytes=0-9", b"If-Range: " + lm)),
        ("range-two", get(b"/index.html", b"Range: bytes=0-9,20-29")),
        ("range-two-untyped", get(b"/README", b"Range: bytes=0-1,4-5")),
        ("range-overlap", get(b"/index.html", b"Range: bytes=0-9,5-15")),
        ("range-one-satisfiable", get(b"/README", b"Range: bytes=0-1,400-500")),
        ("range-head", get(b"/index.html", b"Range: bytes=0-9", method=b"HEAD")),
        ("range-gzip-small", get(b"/index.html", b"Range: bytes=0-9", b"Accept-Encoding: gzip")),
        ("options-css", get(b"/style.css", method=b"OPTIONS")),
        ("options-dir", get(b"/sub/", method=b"OPTIONS")),
        ("options-dir-no-index", get(b"/noindex/", method=b"OPTIONS")),
        ("options-dir-no-slash", get(b"/sub", method=b"OPTIONS")),
        ("options-path-info", get(b"/index.html/x", method=b"OPTIONS")),
        ("options-encoded-slash", get(b"/sub%2Fx", method=b"OPTIONS")),
        ("options-htaccess", get(b"/.htaccess", method=b"OPTIONS")),
        ("post-dir-no-slash", get(b"/sub", b"Content-Length: 0", method=b"POST")),
        ("post-no-index", get(b"/noindex/", b"Content-Length: 0", method=b"POST")),
        ("post-with-body", get(b"/index.html", b"Content-Length: 5", method=b"POST") + b"hello"
         + get(b"/style.css")),
        ("delete-missing", get(b"/nope", method=b"DELETE")),
        ("unknown-method-missing", get(b"/nope", method=b"FOO")),
        ("unknown-method-no-index", get(b"/noindex/", method=b"FOO")),
        ("unknown-method-dir", get(b"/sub", method=b"FOO")),
        ("trace-htaccess", get(b"/.htaccess", method=b"TRACE")),
        ("trace-encoded-slash", get(b"/sub%2Fx", method=b"TRACE")),
        ("trace-bad-escape", get(b"/%zz", method=b"TRACE")),
        ("head-missing", get(b"/nope", method=b"HEAD")),
        ("head-dir-no-slash", get(b"/sub", method=b"HEAD")),
        ("get-star", get(b"*")),
        ("not-found-gzip", get(b"/nope", b"Accept-Encoding: gzip")),
        ("big-gzip-words", get(b"/words.html", b"Accept-Encoding: gzip")),
        ("redirect-space", get(b"/my%20dir")),
        ("redirect-double-slash", get(b"//sub")),
        ("http10-redirect-no-host", get(b"/sub", version=b"HTTP/1.0", host=False)),
    ]

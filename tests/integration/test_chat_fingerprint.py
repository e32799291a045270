"""The chat example answers like the stock Apache wherever it is not the chat itself.

Requests of the fingerprint battery that reach nothing the chat serves (missing
paths, other methods, /.ht* and /server-status, OPTIONS, TRACE, malformed requests,
HTTP/0.9), and /ws without a websocket upgrade, go to the chat process and to the
reference apache2 serving the fingerprint docroot (which has no /ws either); the answers
must be equal, as in test_staticsite_fingerprint.  The chat's own pages are the chat's.
Each request asks for `Connection: close`; a second pass half-closes after the request,
as the static site's battery does (the chat once ran on aiohttp, which dropped those).
Wall time: ~3 s (one chat start; the reference Apache is shared with the static site's test).
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fingerprint_battery import BATTERY, get
from fixtures.apache import free_port, stop, wait_for_port
from test_staticsite_fingerprint import differences
from test_staticsite_fingerprint import exchange as half_closing_exchange

CHAT = Path(__file__).resolve().parents[2] / "examples" / "chat"
# Battery requests whose answer cannot depend on the files Apache serves, malformed
# ones included.
APPLY = [
    "language-options", "file-trailing-slash", "file-path-info", "not-found",
    "not-found-dir", "htaccess", "htpasswd-sub", "traversal", "traversal-encoded",
    "traversal-sub", "encoded-slash", "encoded-nul", "bad-escape", "backslash",
    "no-leading-slash", "long-uri", "long-header", "many-headers", "put", "delete", "patch",
    "options", "options-star", "options-missing", "trace", "connect", "unknown-method",
    "lowercase-method", "propfind", "bad-version", "lowercase-version", "bare-lf",
    "no-host", "two-hosts", "garbage", "binary-garbage", "tab-separator", "header-no-colon",
    "header-space-before-colon", "header-nul", "header-empty-name", "two-content-lengths",
    "negative-content-length", "fragment", "raw-space-uri", "long-method",
    "method-with-slash", "encoded-question-mark", "semicolon-path", "bad-content-length",
    "bad-transfer-encoding", "bad-host", "host-two-dots", "host-empty-port",
    "host-bad-port", "host-empty", "server-status", "server-status-auto",
    "server-status-below", "server-status-double-slash", "server-status-escaped",
    "server-status-prefix", "server-status-case", "server-status-head",
    "server-status-options", "server-status-post", "server-status-unknown-method",
    "server-status-trace", "server-info",
]
PROBES = [(name, dict(BATTERY)[name]) for name in APPLY] + [
    ("ws-no-upgrade", get(b"/ws")),
    ("ws-no-upgrade-query", get(b"/ws?room=lobby&name=eve")),
    ("ws-no-upgrade-head", get(b"/ws", method=b"HEAD")),
    ("ws-upgrade-other", get(b"/ws", b"Upgrade: h2c", b"Connection: Upgrade")),
    ("ws-delete", get(b"/ws", method=b"DELETE")),
    ("ws-options", get(b"/ws", method=b"OPTIONS")),
    ("missing-head", get(b"/nope", method=b"HEAD")),
    ("missing-static", get(b"/static/nope.js")),
    ("missing-static-dir", get(b"/static/")),
    ("missing-post", get(b"/nope", b"Content-Length: 0", method=b"POST")),
    ("ws-post", get(b"/ws", b"Content-Length: 0", method=b"POST")),
    ("expect-other", dict(BATTERY)["expect-other"]),
    ("expect-missing", get(b"/nope", b"Expect: 100-continue")),
    ("missing-delete", get(b"/nope", method=b"DELETE")),
    ("trace-bad-escape", get(b"/%zz", method=b"TRACE")),
    ("options-htaccess", get(b"/.htaccess", method=b"OPTIONS")),
]


def exchange(port, data, timeout=10):
    """Send one request asking to close, return everything until the server closes."""
    line, _, rest = data.partition(b"\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(line + b"\r\nConnection: close\r\n" + rest)
        return b"".join(iter(lambda: s.recv(65536), b""))


@pytest.fixture(scope="module")
def chat_port():
    port = free_port()
    env = dict(os.environ, APAF_BIND_HOST="127.0.0.1", APAF_PORT=str(port),
               APAF_SETTINGS=json.dumps({}), APAF_ALLOW_TOR2WEB="0",
               PYTHONPATH=os.pathsep.join([str(CHAT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(CHAT / "chat_app.py")], env=env)
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        stop(proc)


def test_the_chat_answers_what_it_does_not_serve_like_apache(chat_port, apache_server,
                                                             fingerprint_docroot):
    apache = apache_server(fingerprint_docroot)
    mismatches = differences(PROBES, apache, chat_port, send=exchange)
    assert not mismatches, f"{len(mismatches)} of {len(PROBES)} differ:\n" + "\n".join(
        mismatches)


def test_half_closing_and_http09_clients_get_apaches_answers(chat_port, apache_server,
                                                             fingerprint_docroot):
    apache = apache_server(fingerprint_docroot)
    probes = PROBES + [(name, dict(BATTERY)[name])
                       for name in ("http09-missing", "http09-post", "http09-head")]
    mismatches = differences(probes, apache, chat_port, send=half_closing_exchange)
    assert not mismatches, f"{len(mismatches)} of {len(probes)} differ:\n" + "\n".join(
        mismatches)


def test_the_chat_never_names_aiohttp_or_python(chat_port):
    """Its own pages and malformed requests (a folded header, which Apache takes,
    included): Server is Apache's, and no body or header mentions the stack."""
    for data in (get(b"/"), get(b"/rooms"), get(b"/ws"), get(b"/nope", method=b"DELETE"),
                 get(b"/", method=b"FOO"), b"garbage\r\n\r\n", get(b"/", b"X-A: one", b" two")):
        raw = exchange(chat_port, data)
        head = raw.partition(b"\r\n\r\n")[0]
        assert b"\r\nServer: Apache\r\n" in head, head
        assert b"aiohttp" not in raw.lower() and b"python" not in raw.lower(), raw[:400]


@pytest.mark.parametrize("name", ["http10", "http2-version", "sendfile-http10", "post",
                                  "expect-continue"])
def test_the_chat_pages_status_lines_are_apaches(chat_port, apache_server,
                                                 fingerprint_docroot, name):
    """The status lines (and interim 100s) of the chat's own pages, as Apache answers for
    its index.  aiohttp echoed the client's version (HTTP/1.0 200, even HTTP/2.0 200),
    refused POST with 405 and sent 100 Continue to a request without a body."""
    data = dict(BATTERY)[name].replace(b"/huge.bin", b"/")
    apache = exchange(apache_server(fingerprint_docroot), data)
    def status_lines(raw):
        return [line for line in raw.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert status_lines(exchange(chat_port, data)) == status_lines(apache)

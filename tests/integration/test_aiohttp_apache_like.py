"""An aiohttp app built as examples/README.md shows answers like the stock Apache.

apaf.web.apache_like and apaf.web.apache_run are the library for app developers who keep
aiohttp (the chat example, their first user, now runs on APAF's own server).  The app is
tests/integration/apps/aiohttp_apache_like: the README's snippet, a page at /, a
websocket at /ws and a handler that raises 403.  What it does not serve on purpose (the
chat's fingerprint probes: missing paths, other methods, /.ht* and /server-status,
OPTIONS, TRACE, malformed requests aiohttp's parser refuses, /ws without an upgrade)
must be answered as the reference apache2 answers for the fingerprint docroot.  Each
request asks for `Connection: close` and does not half-close: aiohttp drops a client that
half-closes before the answer, and does not answer HTTP/0.9 (known differences,
runtime/README.md).
Wall time: ~1 s here (one app start; the reference Apache is shared with the other
fingerprint tests).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fingerprint_battery import BATTERY, get
from fixtures.apache import free_port, stop, wait_for_port
from test_chat_fingerprint import PROBES, exchange
from test_staticsite_fingerprint import differences, normalized

APP = Path(__file__).resolve().parent / "apps" / "aiohttp_apache_like" / "aiohttp_app.py"
RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


@pytest.fixture(scope="module")
def app_port():
    port = free_port()
    env = dict(os.environ, APAF_BIND_HOST="127.0.0.1", APAF_PORT=str(port),
               APAF_ALLOW_TOR2WEB="0",
               PYTHONPATH=os.pathsep.join([str(RUNTIME), os.environ.get("PYTHONPATH", "")]))
    env.pop("APAF_LISTEN_FD", None)
    proc = subprocess.Popen([sys.executable, str(APP)], env=env)
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        stop(proc)


def test_what_the_app_does_not_serve_is_answered_like_apache(app_port, apache_server,
                                                             fingerprint_docroot):
    assert len(PROBES) == 85  # the count runtime/README.md states
    apache = apache_server(fingerprint_docroot)
    mismatches = differences(PROBES, apache, app_port, send=exchange)
    assert not mismatches, f"{len(mismatches)} of {len(PROBES)} differ:\n" + "\n".join(
        mismatches)


@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
def test_an_error_the_handler_raises_is_apaches_page(app_port, apache_server,
                                                     fingerprint_docroot, method):
    """The handler's HTTPForbidden("members only") answers as Apache's 403 for /.htaccess."""
    apache = apache_server(fingerprint_docroot)
    want = exchange(apache, get(b"/.htaccess", method=method))
    got = exchange(app_port, get(b"/private", method=method))
    assert normalized(got, method == b"HEAD") == normalized(want, method == b"HEAD")
    assert b"403 Forbidden" in want.partition(b"\r\n")[0]


def test_the_app_never_names_aiohttp_or_python(app_port):
    """Its own page, errors, and what aiohttp's parser refuses (a folded header, which
    Apache takes, included): Server is Apache's, and nothing mentions the stack."""
    for data in (get(b"/"), get(b"/ws"), get(b"/nope", method=b"DELETE"),
                 get(b"/", method=b"FOO"), b"garbage\r\n\r\n", get(b"/", b"X-A: one", b" two")):
        raw = exchange(app_port, data)
        head = raw.partition(b"\r\n\r\n")[0]
        assert b"\r\nServer: Apache\r\n" in head, head
        assert b"aiohttp" not in raw.lower() and b"python" not in raw.lower(), raw[:400]


@pytest.mark.parametrize("name", ["http10", "http2-version", "sendfile-http10", "post",
                                  "expect-continue"])
def test_the_apps_page_status_lines_are_apaches(app_port, apache_server,
                                                fingerprint_docroot, name):
    """The status lines (and interim 100s) of the app's own page, as Apache answers for its
    index: aiohttp alone echoes the client's version (HTTP/1.0 200, even HTTP/2.0 200)
    and sends 100 Continue to a request without a body."""
    data = dict(BATTERY)[name].replace(b"/huge.bin", b"/")
    apache = exchange(apache_server(fingerprint_docroot), data)
    def status_lines(raw):
        return [line for line in raw.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert status_lines(exchange(app_port, data)) == status_lines(apache)

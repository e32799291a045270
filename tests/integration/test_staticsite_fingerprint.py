"""The static-site app answers exactly like Debian's Apache 2.4 (ServerTokens Prod).

The same raw requests (fingerprint_battery.py, ~200 of them, malformed ones included)
go to a reference apache2 and to `python -m apaf.staticsite`, both serving the same
docroot; status lines, header names and order, header values and bodies must be
equal.  Only the Date value may differ (both must be RFC 7231 GMT dates), the
multipart boundary (random per process in both, and so the length of multipart
bodies) and the order inside `Allow` (Apache builds it from a hash table, so its own
order changes from one start to the next).
Wall time: ~3 s (two server starts, ~210 short connections each).
"""
import re
import socket
import time

import pytest

from fingerprint_battery import BATTERY, validator_requests

DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
                  r"|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
ETAG = re.compile(r'^(W/)?"[0-9a-f]+-[0-9a-f]+(-gzip)?"$')
BOUNDARY = re.compile(r"boundary=([0-9a-f]{1,16})$")
# Deliberate differences, checked by their own tests below.
DIFFERENT_ON_PURPOSE = {"symlink-out", "http10-redirect-no-host"}


def exchange(port, data, timeout=10):
    """Send raw bytes, half-close, return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            chunks.append(d)
    return b"".join(chunks)


def split_responses(raw, head_only=False):
    """Parse a stream of HTTP/1.x responses into (status line, [(name, value)], body)."""
    out = []
    while raw:
        if not raw.startswith(b"HTTP/"):
            out.append(("(HTTP/0.9 body)", [], raw))
            break
        head, _, raw = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
        names = {k.lower(): v for k, v in headers}
        status = int(lines[0].split(" ")[1])
        if head_only or status in (204, 304):
            body = b""
        elif names.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, raw = raw.partition(b"\r\n")
                size = int(size_line, 16)
                body += raw[:size]
                raw = raw[size + 2:]
                if size == 0:
                    break
        elif "content-length" in names:
            n = int(names["content-length"])
            body, raw = raw[:n], raw[n:]
        else:
            body, raw = raw, b""
        out.append((lines[0], headers, body))
    return out


def normalized(raw, head_only):
    responses = []
    for status, headers, body in split_responses(raw, head_only):
        norm = []
        boundary = None
        for name, value in headers:
            if name == "Date":
                assert DATE.match(value), f"bad Date format {value!r}"
                value = "<date>"
            elif name == "ETag":
                assert ETAG.match(value), f"ETag {value!r} is not in Apache's format"
            elif name == "Content-Type" and BOUNDARY.search(value):
                boundary = BOUNDARY.search(value).group(1)
                value = value.replace(boundary, "<boundary>")
            elif name == "Allow":
                value = ",".join(sorted(value.split(","))) if value else value
            norm.append((name, value))
        if boundary:  # its length varies too, and with it Content-Length
            uses = body.count(b"--" + boundary.encode())
            body = body.replace(b"--" + boundary.encode(), b"--<boundary>")
            norm = [(k, str(int(v) - uses * len(boundary)) if k == "Content-Length" else v)
                    for k, v in norm]
        responses.append((status, norm, body))
    return responses


def differences(probes, apache, ours, send=exchange):
    """Each probe whose normalized answers from the two ports differ, with both answers."""
    out = []
    for name, data in probes:
        head_only = data.startswith(b"HEAD ")
        want, got = (normalized(send(port, data), head_only) for port in (apache, ours))
        if want != got:
            out.append(f"--- {name}: {data[:120]!r}\n  apache: {want!r:.1500}\n  ours:   {got!r:.1500}")
    return out


@pytest.fixture(scope="module")
def servers(fingerprint_docroot, apache_server, staticsite_server):
    return apache_server(fingerprint_docroot), staticsite_server(fingerprint_docroot)


def _battery(servers):
    apache, _ = servers
    first = split_responses(exchange(apache, BATTERY[1][1]))[0][1]
    h = dict(first)
    return BATTERY + validator_requests(h["ETag"], h["Last-Modified"])


def test_battery_is_broad():
    assert len(BATTERY) >= 100


def test_same_answers_as_apache(servers):
    """Every request of the battery gets the same responses from both servers."""
    apache, ours = servers
    battery = _battery(servers)
    mismatches = differences([p for p in battery if p[0] not in DIFFERENT_ON_PURPOSE], apache, ours)
    assert not mismatches, f"{len(mismatches)} of {len(battery)} differ:\n" + "\n".join(
        mismatches)


def test_a_request_trickling_in_byte_by_byte_is_answered_like_apache(servers):
    def trickle(port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            for byte in dict(BATTERY)["range-first"]:
                s.sendall(bytes([byte]))
                time.sleep(0.003)
            s.shutdown(socket.SHUT_WR)
            return b"".join(iter(lambda: s.recv(65536), b""))
    apache, ours = servers
    assert normalized(trickle(ours), False) == normalized(trickle(apache), False)


def test_symlink_out_of_docroot_is_refused(servers):
    """Apache (FollowSymLinks) would serve it; the app answers Apache's 403 instead."""
    apache, ours = servers
    forbidden = normalized(exchange(apache, dict(BATTERY)["htaccess"]), False)
    got = normalized(exchange(ours, dict(BATTERY)["symlink-out"]), False)
    assert got == forbidden
    assert b"outside the docroot" not in exchange(ours, dict(BATTERY)["symlink-out"])


def test_no_local_information_leaks(servers, fingerprint_docroot):
    """No hostname, docroot path, loopback address or non-GMT time in what the server writes.

    Checked: every header and every server-generated body (status >= 300); bodies of
    200/206 answers are the site's own files.
    """
    _, ours = servers
    secrets = [socket.gethostname(), fingerprint_docroot, fingerprint_docroot.split("/")[2],
               "127.0.0.1"]
    for name, data in _battery(servers):
        for status, headers, body in split_responses(exchange(ours, data),
                                                     data.startswith(b"HEAD ")):
            text = status + "\n" + "\n".join(f"{k}: {v}" for k, v in headers)
            if not status.startswith(("HTTP/1.1 2", "(HTTP/0.9")):
                text += body.decode("latin-1")
            for secret in secrets:
                assert secret not in text, f"{name}: response contains {secret!r}"
            for key, value in headers:
                if key in ("Date", "Last-Modified"):
                    assert DATE.match(value), f"{name}: {key} {value!r} is not GMT"


def test_a_request_without_host_is_redirected_to_a_name_that_tells_nothing(servers):
    """Stock Apache (no ServerName) names its machine here: the FQDN of its hostname, or
    its address when that does not resolve.  The app names the onion address (localhost
    when it runs without one, as here); apart from the name, the answers are Apache's."""
    apache, ours = servers
    data = dict(_battery(servers))["http10-redirect-no-host"]
    [(status, headers, body)] = normalized(exchange(apache, data), False)
    own_name = dict(headers)["Location"].split("/")[2]
    assert own_name != "localhost"
    renamed = [(k, v.replace(own_name, "localhost")) for k, v in headers]
    length = str(len(body.replace(own_name.encode(), b"localhost")))
    renamed = [(k, length if k == "Content-Length" else v) for k, v in renamed]
    want = [(status, renamed, body.replace(own_name.encode(), b"localhost"))]
    assert normalized(exchange(ours, data), False) == want


def test_tor2web_gets_apaches_403_unless_allowed(servers, fingerprint_docroot, staticsite_server):
    apache, ours = servers
    tor2web = b"GET / HTTP/1.1\r\nHost: example.onion\r\nX-Tor2web: encrypted\r\n\r\n"
    forbidden = normalized(exchange(apache, dict(BATTERY)["htaccess"]), False)
    assert normalized(exchange(ours, tor2web), False) == forbidden
    allowing = staticsite_server(fingerprint_docroot, APAF_ALLOW_TOR2WEB="1")
    assert normalized(exchange(allowing, tor2web), False) == normalized(
        exchange(apache, tor2web), False)

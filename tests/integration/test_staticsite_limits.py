"""The static-site app's work per request stays bounded, next to the reference apache2.

200 ranges over a 40 MB file get Apache's own answer (a streamed multipart body) while
the app's resident memory grows by a small fraction of the file; a 1 MiB chunked body
of 1-byte chunks is skipped and the request after it answered on the same connection.
Wall time: ~10 s (two server starts, a 40 MB file).
"""
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from fixtures.apache import free_port, start_apache, stop
from fixtures.staticsite import MTIME_NS, start_staticsite
from test_staticsite_fingerprint import exchange, normalized

SIZE = 40 * 1024 * 1024
RANGES = b"Range: bytes=" + b",".join(
    b"%d-%d" % (i * (SIZE // 200), i * (SIZE // 200) + SIZE // 400) for i in range(200))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.fixture(scope="module")
def servers():
    base = Path(tempfile.mkdtemp(prefix="apaf-limits-"))  # apache2 (www-data) must reach it
    os.chmod(base, 0o755)
    root = base / "site"
    root.mkdir(mode=0o755)
    (root / "index.html").write_text("<p>hi</p>\n")
    with open(root / "large.bin", "wb") as f:
        block = bytes(range(256)) * 4096
        for _ in range(SIZE // len(block)):
            f.write(block)
    for path in root.iterdir():
        path.chmod(0o644)
        os.utime(path, ns=(MTIME_NS, MTIME_NS))  # not "just modified": strong ETags
    app_port, apache_port = free_port(), free_port()
    app = start_staticsite(str(root), app_port)
    apache = start_apache(str(root), apache_port, str(base / "apache"))
    yield app, app_port, apache_port
    stop(app)
    stop(apache)
    shutil.rmtree(base, ignore_errors=True)


def test_200_ranges_of_a_large_file_are_streamed_as_apache_answers_them(servers):
    app, app_port, apache_port = servers
    request = b"GET /large.bin HTTP/1.1\r\nHost: x\r\n" + RANGES + b"\r\n\r\n"
    exchange(app_port, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")  # warm up
    before = rss_kib(app.pid)
    ours = exchange(app_port, request, timeout=60)
    grown_mib = (rss_kib(app.pid) - before) / 1024
    assert ours.startswith(b"HTTP/1.1 206 Partial Content\r\n")
    assert len(ours) < SIZE  # 200 half-slices: half the file plus the part headers
    assert grown_mib < 8, f"the app grew by {grown_mib:.1f} MiB answering 200 ranges"
    assert normalized(ours, False) == normalized(exchange(apache_port, request, 60), False)


def test_a_megabyte_of_one_byte_chunks_is_skipped_and_the_next_request_answered(servers):
    _, app_port, apache_port = servers
    request = (b"POST /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"1\r\nx\r\n" * (1 << 20) + b"0\r\n\r\n"
               + b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    def send(port):
        with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
            s.sendall(request)
            return b"".join(iter(lambda: s.recv(65536), b""))
    ours = send(app_port)
    assert ours.count(b"HTTP/1.1 200 OK\r\n") == 2 and ours.endswith(b"<p>hi</p>\n")
    assert normalized(ours, False) == normalized(send(apache_port), False)

"""Benchmark: the static-site app next to Debian's Apache on the same files (figures only).

Runs `wrk -t2 -c64 -d10s --latency` on a small page (76 bytes) and a 100 KB file
against each server and prints requests/s, p99 latency and the app/Apache ratio.
Aim (issue 3): >= 5,000 requests/s on the small page with p99 <= 50 ms.
Then the limits of issue 12, app and Apache side by side: a 1 MiB chunked body of
1-byte chunks (and the parser alone, in-process), a 780 KB page gzipped (total time,
and the worst wait of small requests sent meanwhile: time the event loop was blocked),
and the resident-memory growth of answering 200 ranges of a 40 MB file.
Takes ~70 s (`limits` as the only argument: ~20 s, the issue 12 figures only).
Run with `ci/farm bench --only staticsite`.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fixtures.apache import available, free_port, start_apache, stop  # noqa: E402
from fixtures.staticsite import make_docroot, start_staticsite  # noqa: E402

DURATION = os.environ.get("APAF_BENCH_DURATION", "10s")
TARGETS = [("small page", "/small.html"), ("100 KB file", "/big.bin")]
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port, path):
    """Return (requests per second, p99 in ms) of one wrk run."""
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{DURATION}", "--latency",
                          f"http://127.0.0.1:{port}{path}"],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses on {path}")
    return rps, float(value) * _UNITS[unit]


def request_time(port, data):
    """Seconds from sending data until the server closes the connection, and the bytes."""
    start, got = time.perf_counter(), b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
            s.sendall(data)
            got = b"".join(iter(lambda: s.recv(1 << 20), b""))
    except OSError as err:
        got += f"[{type(err).__name__}]".encode()
    return time.perf_counter() - start, got


def chunked_figures(ports):
    body = b"1\r\nx\r\n" * (1 << 20) + b"0\r\n\r\n"
    try:
        from apaf.staticsite.request import ChunkedBody
    except ImportError:  # an older runtime (PYTHONPATH) for before/after figures
        print("chunked body, 1 MiB of 1-byte chunks:")
    else:
        reader, buf, start = ChunkedBody(), bytearray(), time.perf_counter()
        for i in range(0, len(body), 65536):  # as it arrives, in 64 KiB reads
            buf += body[i:i + 65536]
            used, _ = reader.consume(buf)
            del buf[:used]
        print(f"chunked body, 1 MiB of 1-byte chunks: parser alone "
              f"{(time.perf_counter() - start) * 1000:.0f} ms")
    data = (b"POST /small.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + body)
    for name, port in ports:
        seconds, got = request_time(port, data)
        print(f"  {name:<16} request answered in {seconds * 1000:.0f} ms ({got[:12].decode()})")


def gzip_figures(ports):
    for name, port in ports:
        stop, waits = threading.Event(), []

        def probe():
            while not stop.is_set():
                waits.append(request_time(port, b"GET /small.html HTTP/1.0\r\n\r\n")[0])
                time.sleep(0.005)
        t = threading.Thread(target=probe)
        t.start()
        seconds, got = request_time(port, b"GET /large.html HTTP/1.0\r\nAccept-Encoding: gzip"
                                           b"\r\n\r\n")
        stop.set()
        t.join()
        print(f"gzip of a {os.path.getsize(LARGE) // 1000} KB page, {name:<16} "
              f"{seconds * 1000:.0f} ms, {len(got) // 1000} KB sent; small requests meanwhile: "
              f"{len(waits)}, worst {max(waits) * 1000:.1f} ms")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def ranges_figures(ports, pids, size):
    spec = b",".join(b"%d-%d" % (i * (size // 200), i * (size // 200) + size // 400)
                     for i in range(200))
    data = b"GET /ranges.bin HTTP/1.0\r\nRange: bytes=" + spec + b"\r\n\r\n"
    for (name, port), pid in zip(ports, pids):
        before = rss_kib(pid) if pid else 0
        seconds, got = request_time(port, data)
        grown = rss_kib(pid) - before if pid else None
        print(f"200 ranges of a {size >> 20} MiB file, {name:<16} {seconds * 1000:.0f} ms, "
              f"{len(got) >> 20} MiB sent" + (f", RSS +{grown / 1024:.1f} MiB" if grown is not None
                                               else " (RSS: several processes, not measured)"))


LARGE = ""


def limits(docroot, app_port, apache_port, app_pid):
    global LARGE
    LARGE = os.path.join(docroot, "large.html")
    size = 40 << 20
    with open(os.path.join(docroot, "ranges.bin"), "wb") as f:
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
    os.chmod(os.path.join(docroot, "ranges.bin"), 0o644)
    ports = [("apaf.staticsite", app_port), ("apache2", apache_port)]
    print("issue 12 limits, one request at a time on 127.0.0.1")
    chunked_figures(ports)
    gzip_figures(ports)
    ranges_figures(ports, [app_pid, None], size)


def main():
    only_limits = sys.argv[1:] == ["limits"]
    why = available() or ("" if shutil.which("wrk") or only_limits
                          else "wrk is not installed (ci/apt-packages.txt)")
    if why:
        raise SystemExit(why)
    base = tempfile.mkdtemp(prefix="apaf-bench-")
    servers = []
    try:
        docroot = make_docroot(base)
        app_port, apache_port = free_port(), free_port()
        servers.append(start_staticsite(docroot, app_port))
        servers.append(start_apache(docroot, apache_port, os.path.join(base, "apache")))
        limits(docroot, app_port, apache_port, servers[0].pid)
        if only_limits:
            return
        print(f"static-site app vs Debian Apache, wrk -t2 -c64 -d{DURATION} on 127.0.0.1")
        print(f"{'file':<12} {'server':<16} {'req/s':>10} {'p99 ms':>8}")
        for label, path in TARGETS:
            app = wrk(app_port, path)
            ref = wrk(apache_port, path)
            print(f"{label:<12} {'apaf.staticsite':<16} {app[0]:>10.0f} {app[1]:>8.2f}")
            print(f"{label:<12} {'apache2':<16} {ref[0]:>10.0f} {ref[1]:>8.2f}")
            print(f"{label:<12} {'ratio app/apache':<16} {app[0] / ref[0]:>10.2f} "
                  f"{app[1] / ref[1]:>8.2f}")
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: the static-site app next to Debian's Apache on the same files (figures only).

Runs `wrk -t2 -c64 -d10s --latency` on a small page (76 bytes) and a 100 KB file
against each server and prints requests/s, p99 latency and the app/Apache ratio.
Aim (issue 3): >= 5,000 requests/s on the small page with p99 <= 50 ms.
Takes ~45 s.  Run with `ci/farm bench --only staticsite`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


def main():
    why = available() or ("" if shutil.which("wrk") else "wrk is not installed (ci/apt-packages.txt)")
    if why:
        raise SystemExit(why)
    base = tempfile.mkdtemp(prefix="apaf-bench-")
    servers = []
    try:
        docroot = make_docroot(base)
        app_port, apache_port = free_port(), free_port()
        servers.append(start_staticsite(docroot, app_port))
        servers.append(start_apache(docroot, apache_port, os.path.join(base, "apache")))
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

"""Benchmark: what every farm command pays before it starts, as whole processes.

`ci/farm --list` and a no-op `ci/farm toolchain --target linux-x86_64` (every step cached),
each run N times after one untimed warm-up (which builds the toolchain if the cache lacks
it); median, min and max wall seconds, with the aims of issue 15 beside them, and the
median CPU seconds (user + system, children included): on a loaded machine the wall time
mostly measures the wait for a core, the CPU time what an idle machine's wall would be. For where the
rest goes: a bare interpreter start and `import tasks` in the farm's venv. Bytecode caches
are allowed (PYTHONDONTWRITEBYTECODE dropped), as on a user's machine: the warm-up writes them.
Run with `ci/farm bench --only farm` (APAF_CACHE picks the cache; N from APAF_BENCH_RUNS, default 10).
"""
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FARM = str(REPO / "ci" / "farm")
PY = sys.executable
RUNS = int(os.environ.get("APAF_BENCH_RUNS", "10"))

CASES = [
    ("ci/farm --list", [FARM, "--list"], 0.3),
    ("ci/farm toolchain (no-op)", [FARM, "toolchain", "--target", "linux-x86_64"], 1.0),
    ("python -c pass (farm venv)", [PY, "-c", "pass"], None),
    ("python -c 'import tasks'", [PY, "-c", "import tasks"], None),
]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    started, cpu = time.monotonic(), _cpu()
    subprocess.run(argv, cwd=REPO, check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started, _cpu() - cpu


def main():
    print(f"farm start-up, {RUNS} runs each after a warm-up; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (figures scale with load)")
    for label, argv, aim in CASES:
        subprocess.run(argv, cwd=REPO, check=True, env=ENV, stdout=subprocess.DEVNULL)   # warm-up; may build
        runs, cpus = zip(*(timed(argv) for _ in range(RUNS)))
        wall, cpu = statistics.median(runs), statistics.median(cpus)
        verdict = "" if aim is None else (f"   aim <= {aim:.1f} s: wall {'met' if wall <= aim else 'MISSED'}, "
                                          f"CPU {'met' if cpu <= aim else 'MISSED'}")
        print(f"  {label:28} median {wall:5.2f} s  (min {min(runs):.2f}, max {max(runs):.2f}); "
              f"CPU {cpu:.2f} s{verdict}")


if __name__ == "__main__":
    main()

"""Benchmark: how long the SSH builder takes to notice a silently dead link (figures only).

A real sshd on 127.0.0.1 (started for the run); a step prints a line and then
stays quiet; on that line the connection's server-side sshd processes are
frozen (SIGSTOP: the kernel still ACKs, nothing answers). The figure is the
time from the freeze to the executor's "link lost, retrying" line, for the
default link_timeout (30 s) and a short one; the retry then finds the step
already done (a marker file) and ends at once. The promise is between 2/3 of
link_timeout and link_timeout.
Takes ~2.5 min. Run with `ci/farm bench --only ssh_dead_link`.
"""
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from builders.executors import get as get_executor  # noqa: E402
from builders.executors.base import Job  # noqa: E402
from fixtures.sshd import start_sshd, stop_sshd  # noqa: E402

RUNS = int(os.environ.get("APAF_BENCH_RUNS", "3"))


def detect_once(sshd, inventory: Path, work: Path) -> float:
    out = work / "out"
    out.mkdir(parents=True)
    marker = work / "second-attempt"    # the step runs on this machine's sshd: /tmp is shared
    script = f"[ -e {marker} ] && exit 0\ntouch {marker}\necho started\nsleep 600\n"
    job = Job(step_id="bench@ssh", recipe_files={"build.sh": script.encode()}, sources=[], deps={},
              out_dir=out, work_dir=work / "stage")
    seen: dict = {}

    def log(line: str) -> None:
        if line == "started" and "frozen" not in seen:
            seen["frozen"] = time.monotonic()
            seen["pids"] = sshd.freeze()
        elif line.startswith("! link to") and "lost" not in seen:
            seen["lost"] = time.monotonic()

    try:
        get_executor("ssh:loopback", inventory=inventory).run(job, log)
    finally:
        sshd.thaw(seen.get("pids", []))
    return seen["lost"] - seen["frozen"]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-dead-link-"))
    sshd, proc = start_sshd(tmp / "sshd")
    try:
        print(f"{'link_timeout':>12}  {'runs':>4}  {'min s':>6}  {'max s':>6}  window")
        for timeout in (30.0, 6.0):
            inv = sshd.write_inventory(tmp / f"builders-{timeout:g}.toml", known_hosts=sshd.dir / "known_hosts",
                                       retries=1)
            inv.write_text(inv.read_text() + f"link_timeout = {timeout:g}\n")
            took = [detect_once(sshd, inv, tmp / f"run-{timeout:g}-{i}") for i in range(RUNS)]
            print(f"{timeout:>12g}  {RUNS:>4}  {min(took):>6.1f}  {max(took):>6.1f}  "
                  f"{timeout * 2 / 3:.1f}-{timeout:.1f} s promised")
    finally:
        stop_sshd(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""How long the runtime's services are gone after a tor restart, on a private Tor network.

Two restarts, each measured `--runs N` times (default 5), from the runtime's own milestones
($APAF_TIMELINE, apaf/timeline.py) of the restarted tor:
  crash   `apaf run examples/static-site`, published; tor SIGKILLed; the supervisor starts a
          new tor (0.5 s back-off). A new `apaf run` (fresh data dir) per round.
  edit    an in-process Runtime (tests' envecho app); a torrc edit that adds or removes a
          ClientTransportPlugin line, which switches tor's own Sandbox and so restarts tor
          (apaf.tor.process `_apply_by_restart`). Skipped when this tor has no sandbox.
Printed per round, in seconds from the new tor's launch: bootstrap 100 %, the ADD_ONION's
answer, the first HS_DESC UPLOADED, the whole upload round ("published").
Run: `.venv/bin/python tests/bench/bench_tor_restart.py --runs 5` (~2-3 min).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from apaf.testnet import TestNetwork  # noqa: E402
from apaf.timeline import ENV_VAR  # noqa: E402
from fixtures.runtime import ENVECHO, apaf_run  # noqa: E402

SITE = TESTS.parent / "examples" / "static-site"
COLUMNS = ("bootstrapped", "onion-added", "first-uploaded", "uploaded")


def marks_after(timeline: Path, skip: int, app: str) -> dict[str, float]:
    """Seconds from the first `tor-launched` after line `skip` to each milestone after it."""
    found: dict[str, float] = {}
    for line in timeline.read_text().splitlines()[skip:]:
        name, _, value = line.rpartition(" ")
        found.setdefault(name.removesuffix(f" {app}"), float(value))
    start = found["tor-launched"]
    return {k: found[k] - start for k in COLUMNS if k in found}


def wait_marked(timeline: Path, skip: int, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not any(ln.startswith(name + " ") for ln in timeline.read_text().splitlines()[skip:]):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name!r} in {timeout} s after the restart")
        time.sleep(0.05)


def crash_round(net, work: Path, i: int) -> dict[str, float]:
    data, timeline = work / f"crash{i}", work / f"crash{i}.timeline"
    with apaf_run(data, [SITE], net, "--no-admin", env={ENV_VAR: str(timeline)}) as rt:
        skip = len(timeline.read_text().splitlines())
        os.kill(rt.tor_pid(), signal.SIGKILL)
        wait_marked(timeline, skip, "uploaded static-site")
    return marks_after(timeline, skip, "static-site")


async def edit_rounds(net, work: Path, runs: int) -> list[dict[str, float]]:
    from apaf.runtime import Runtime

    program = work / "bin" / "lyrebird"  # never started: UseBridges stays 0
    program.parent.mkdir(mode=0o755)
    program.write_text("#!/bin/sh\nexit 1\n")
    program.chmod(0o755)
    os.chmod(work, 0o755)
    timeline = work / "edit.timeline"
    os.environ[ENV_VAR] = str(timeline)
    rt = Runtime([ENVECHO], work / "edit", join_lines=net.join_torrc_lines(), admin=False)
    await rt.start()
    rows = []
    try:
        if not rt.tor.sandbox_supported:
            print(f"edit: skipped, {rt.tor.binary} has no sandbox ({rt.tor.sandbox_unsupported_why})")
            return rows
        await rt.onions.wait_published("envecho", 90)
        for i in range(runs):
            skip = len(timeline.read_text().splitlines())
            text = f"ClientTransportPlugin obfs4 exec {program}\nUseBridges 0\n" if i % 2 == 0 else "UseBridges 0\n"
            await rt.apply_torrc_extra(text)
            await asyncio.to_thread(wait_marked, timeline, skip, "uploaded envecho")
            rows.append(marks_after(timeline, skip, "envecho"))
    finally:
        await rt.stop()
        del os.environ[ENV_VAR]
    return rows


def report(kind: str, rows: list[dict[str, float]]) -> None:
    print(f"\n{kind}: seconds from the new tor's launch")
    print("round  " + "  ".join(f"{c:>14}" for c in COLUMNS))
    for i, row in enumerate(rows):
        print(f"{i:>5}  " + "  ".join(f"{row.get(c, float('nan')):14.2f}" for c in COLUMNS))
    if rows:
        print("median " + "  ".join(f"{statistics.median(r.get(c, float('nan')) for r in rows):14.2f}"
                                    for c in COLUMNS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="restarts of each kind (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tor-restart-") as tmp:
        work = Path(tmp)
        t = time.monotonic()
        net = TestNetwork(work / "net", authorities=3, relays=4).start(timeout=180)
        print(f"private network up in {time.monotonic() - t:.1f} s (3 authorities, 4 relays, client)")
        try:
            report("crash (tor SIGKILLed)", [crash_round(net, work, i) for i in range(args.runs)])
            report("edit (Sandbox switched)", asyncio.run(edit_rounds(net, work, args.runs)))
        finally:
            net.stop()


if __name__ == "__main__":
    main()

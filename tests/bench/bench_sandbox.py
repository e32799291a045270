"""App sandbox start-up cost: what confining an app process adds before its code runs.

Prints (figures, no pass/fail), median of ROUNDS app starts each (the envecho test app,
started by `apaf.apps.AppProcess` as the runtime does):
  confine   the sandbox's own time inside the app process (policy, Landlock, seccomp), as
            the app's log states it ("apaf sandbox: confined in N ms (kernel rules M ms)")
  start     spawn -> accepting connections, sandboxed and with APAF_SANDBOX=off
Run: `ci/farm bench --only sandbox` (about 15 s).
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from apaf.apps import AppProcess  # noqa: E402
from apaf.manifest import load_manifest  # noqa: E402
from apaf.sandbox import status  # noqa: E402

ROUNDS = 7
ENVECHO = TESTS / "integration" / "apps" / "envecho"


async def one_start(tmp: Path, i: int, sandboxed: bool) -> tuple[float, float | None]:
    log = tmp / f"{i}-{sandboxed}.log"
    app = AppProcess(load_manifest(ENVECHO), data_dir=tmp / f"d{i}{sandboxed}", log_path=log, env={})
    saved = os.environ.pop("APAF_SANDBOX", None)
    if not sandboxed:
        os.environ["APAF_SANDBOX"] = "off"
    try:
        started = time.perf_counter()
        await app.start()
        took = time.perf_counter() - started
    finally:
        os.environ.pop("APAF_SANDBOX", None)
        if saved is not None:
            os.environ["APAF_SANDBOX"] = saved
        await app.stop()
    m = re.search(r"confined in ([0-9.]+) ms \(kernel rules ([0-9.]+) ms", log.read_text())
    return took * 1000, (float(m.group(1)), float(m.group(2))) if m else None


async def main() -> None:
    print(f"sandbox on this machine: {status()}")
    with tempfile.TemporaryDirectory() as tmp:
        on, off, confine = [], [], []
        for i in range(ROUNDS):
            t, c = await one_start(Path(tmp), i, True)
            on.append(t)
            confine.append(c)
            off.append((await one_start(Path(tmp), i, False))[0])
    med = statistics.median
    total, kernel = [c[0] for c in confine], [c[1] for c in confine]
    print(f"confine   {med(total):7.1f} ms  (min {min(total):.1f}, max {max(total):.1f}); of which "
          f"kernel rules {med(kernel):.1f} ms (the rest is building the policy and imports, which "
          f"are compiled from source when PYTHONDONTWRITEBYTECODE is set, as in the dev tree here)")
    print(f"start     {med(on):7.1f} ms sandboxed, {med(off):.1f} ms with APAF_SANDBOX=off "
          f"(difference {med(on) - med(off):+.1f} ms; {ROUNDS} rounds each)")


if __name__ == "__main__":
    asyncio.run(main())

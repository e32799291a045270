"""Benchmark: cold linux-x86_64 toolchain build (wall, CPU, parallel efficiency) and a no-op rebuild.

Prints figures; asserts nothing. Uses a fresh step cache sharing the verified
tarballs of $APAF_CACHE (fetched first if needed), so the build is cold but
the network is not timed. Run with `ci/farm bench --only toolchain`.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from builders import paths  # noqa: E402
from builders.build import Build  # noqa: E402
from builders.executors import get as get_executor  # noqa: E402
from builders.progress import PlainProgress  # noqa: E402
from builders.recipes import load_target  # noqa: E402
from builders.sources import SourceStore  # noqa: E402


def main() -> None:
    target = load_target(os.environ.get("APAF_BENCH_TARGET", "linux-x86_64"))
    shared = paths.cache_root()
    store = SourceStore(shared)
    for name in store.manifest:
        store.fetch(name)
    with tempfile.TemporaryDirectory(prefix="apaf-bench-") as tmp:
        cache = Path(tmp)
        shutil.copytree(shared / "sources", cache / "sources", copy_function=os.link,
                        ignore=shutil.ignore_patterns(".apt", ".fetch-*"))

        def build():
            executor = get_executor("local", source_date_epoch=target.source_date_epoch)
            return Build(target, executor, cache_root=cache, progress=PlainProgress(open(os.devnull, "w"))).run()

        cold = build()
        t0 = time.monotonic()
        noop = build()
        noop_s = time.monotonic() - t0
    cores = os.cpu_count() or 1
    ideal = cold.cpu_seconds / cores
    print(f"toolchain {target.name} on {cores} cores")
    for s in cold.steps:
        print(f"  {s.id:<16} {s.seconds:7.1f}s wall {s.cpu_seconds:7.1f}s CPU")
    print(f"cold build:   {cold.wall_seconds:7.1f}s wall  {cold.cpu_seconds:7.1f}s CPU")
    print(f"parallel efficiency: wall / (CPU / cores) = {cold.wall_seconds / ideal:.2f}  (aim <= 1.15)")
    print(f"no-op rebuild: {noop_s:.2f}s, steps run: {len(noop.built)}  (aim < 1 s, 0 steps)")


if __name__ == "__main__":
    main()

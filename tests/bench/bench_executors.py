"""Benchmark: the same real recipe step on the local, docker and SSH builders (figures only).

Builds each recipe of APAF_BENCH_RECIPES (default `zlib,xz`: a 3 s step, where
overhead dominates, and a ~30 s one) once per builder, each in an empty step
cache, and prints wall seconds and the ratio to local. SSH goes to a real
sshd started on 127.0.0.1 for the run (same machine, so the ratio is the
protocol's overhead: SFTP upload, remote tar, download). Docker needs the
toolchain image (`ci/farm images.build`). Takes ~2-3 min on 2 cores.
Run with `ci/farm bench --only executors`.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from builders import paths  # noqa: E402
from builders.executors import get as get_executor  # noqa: E402
from fixtures.builders import make_one_recipe_target, run_build, tree_hashes  # noqa: E402
from fixtures.sshd import start_sshd, stop_sshd  # noqa: E402

RECIPES = os.environ.get("APAF_BENCH_RECIPES", "zlib,xz").split(",")
TOOLCHAIN = {"zlib": "musl", "libevent": "musl", "openssl": "musl"}


def empty_cache(tmp: Path, name: str) -> Path:
    """A fresh step cache sharing the verified tarballs of $APAF_CACHE (fetched once)."""
    root = tmp / name
    src = paths.cache_root() / "sources"
    if src.is_dir():
        shutil.copytree(src, root / "sources", copy_function=os.link, ignore=shutil.ignore_patterns(".apt", ".fetch-*"))
    return root


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    sshd, proc = start_sshd(tmp / "sshd")
    try:
        print(f"{'step':<12} {'builder':<14} {'wall s':>7} {'x local':>8}  same bytes")
        for recipe in RECIPES:
            target = make_one_recipe_target(tmp / f"target-{recipe}", recipe, TOOLCHAIN.get(recipe, "gnu"))
            builders = {
                "local": get_executor("local", source_date_epoch=target.source_date_epoch),
                "docker": get_executor("docker", source_date_epoch=target.source_date_epoch),
                "ssh:loopback": get_executor("ssh:loopback", inventory=sshd.inventory,
                                             source_date_epoch=target.source_date_epoch),
            }
            base = reference = None
            for name, executor in builders.items():
                try:
                    s = run_build(target, executor, empty_cache(tmp, f"{recipe}-{name.replace(':', '-')}"))
                except Exception as exc:  # noqa: BLE001 - a bench prints what it could not measure
                    print(f"{recipe:<12} {name:<14} {'-':>7} {'-':>8}  ({exc})".split("\n")[0])
                    continue
                hashes = tree_hashes(Path(s.outputs[recipe]))
                base = base or s.wall_seconds
                reference = reference or hashes
                print(f"{recipe:<12} {name:<14} {s.wall_seconds:7.1f} {s.wall_seconds / base:8.2f}  "
                      f"{'yes' if hashes == reference else 'NO'}", flush=True)
    finally:
        stop_sshd(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Two cold toolchain builds from checkouts at different paths give the same bytes."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import paths

pytestmark = pytest.mark.slow

ARTIFACTS = {"tor": "bin/tor", "cpython": "lib/libpython3.13.so.1.0"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_second_checkout_at_another_path_builds_identical_tor_and_libpython(
        linux_toolchain, second_checkout):
    checkout, cache, run = second_checkout
    proc = run("toolchain", "--target", "linux-x86_64", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(proc.stdout)
    # The second cache started empty (a bundle test may have filled it first,
    # from the same other checkout), so these outputs were built there, cold.
    assert all(s["out"].startswith(str(cache)) for s in second["steps"])
    for output, rel in ARTIFACTS.items():
        a = Path(linux_toolchain.outputs[output]) / rel
        b = Path(second["outputs"][output]) / rel
        assert a.parent != b.parent
        assert _sha(a) == _sha(b), f"{output}: {rel} differs between the two checkouts"
    print(f"\nsecond cold build: {second['wall_seconds']:.0f}s wall, {second['cpu_seconds']:.0f}s CPU")


def test_rebuild_with_no_change_runs_no_step(linux_toolchain, farm_cache):
    invoke = Path(sys.executable).parent / "invoke"
    proc = subprocess.run([str(invoke), "toolchain", "--json"], cwd=paths.REPO,
                          env={**os.environ, "APAF_CACHE": str(farm_cache)},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert {s["status"] for s in summary["steps"]} == {"cached"}
    assert summary["outputs"] == linux_toolchain.outputs

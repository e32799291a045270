"""A real release, then `invoke rebuild` of it from a second clone at another path: identical.

The release is made in a clean clone of this repository's HEAD (so its provenance's
commit is all it was made from) with the run's cache; the rebuild exports that commit
again to yet another path and builds there with the session's `second_checkout` cache,
whose chat bundle test_reproducible_bundle.py (which runs before this file) already made
from the same sources. On a clean checkout, CI's case, neither side builds a step the
suite has not built; a checkout with uncommitted changes to the runtime or recipes builds
the changed steps once on each side.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

REPO = Path(__file__).resolve().parents[2]


def test_release_rebuilt_from_a_second_clone_is_identical(chat_bundle, second_checkout, farm_cache, release_key,
                                                          tmp_path):
    fpr, home, public = release_key
    _, second_cache, _ = second_checkout
    clone = tmp_path / "first" / "apaf"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO), str(clone)], check=True, capture_output=True)
    env = {**os.environ, "APAF_CACHE": str(farm_cache),
           "PYTHONPATH": os.pathsep.join([str(clone / "runtime"), str(clone)])}
    dist = tmp_path / "release"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "invoke", "release", "--app", "examples/chat", "--key", fpr,
                           "--gnupghome", str(home), "--dist", str(dist), "--builders", "local", "--json"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stderr[-3000:]
    release_seconds = time.monotonic() - started
    report = json.loads(proc.stdout)
    assert report["uncommitted"] == [], "a fresh clone has no uncommitted changes"
    check = subprocess.run([sys.executable, "-m", "invoke", "verify", str(dist), "--key", str(public)],
                           cwd=REPO, capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stderr

    started = time.monotonic()
    elsewhere = tmp_path / "second" / "some" / "other" / "path"
    elsewhere.mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "invoke", "rebuild", str(dist), "--builder", "local",
                           "--repo", str(clone), "--cache", str(second_cache), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=3000,
                          env={**os.environ, "TMPDIR": str(elsewhere)})
    rebuild_seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["commit"] == report["checkout"]
    assert result["checkout"].startswith(str(elsewhere)), "rebuilt from a clone at another path"
    assert {n: r["status"] for n, r in result["artifacts"].items()} == {
        n: "identical" for n in report["artifacts"]}
    print(f"\nrelease (one builder, from a clean clone): {release_seconds:.0f}s wall; "
          f"rebuild from a second clone: {rebuild_seconds:.0f}s wall")

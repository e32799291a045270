"""Two cold builds from checkouts at different paths, with separate caches, give identical bytes.

The second build copies the checkout (without .git, .venv, dist) to another path with
fresh mtimes and runs `invoke build` there with an empty step cache (only the verified
source tarballs are shared), so tor, CPython, the wheelhouse, the freeze, staticx, the
.deb and the .rpm are all made again. Wall time: one cold build (~8-15 min on 2 cores).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builders.bundle.app_build import sha256_file

REPO = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv", "dist", "release", "__pycache__", "*.egg-info", ".pytest_cache")


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a whole cold build: tor, CPython and the bundle
def test_second_cold_build_elsewhere_is_bit_identical(chat_bundle, fresh_cache, tmp_path):
    checkout = tmp_path / "elsewhere" / "apaf-checkout"
    shutil.copytree(REPO, checkout, ignore=SKIP, copy_function=shutil.copy)  # new mtimes too
    cache = fresh_cache("repro-cache")
    env = {**os.environ, "APAF_CACHE": str(cache), "PYTHONPATH": str(checkout)}
    proc = subprocess.run([sys.executable, "-m", "invoke", "build", "--app", "examples/chat",
                           "--dist", str(tmp_path / "dist"), "--json"],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(proc.stdout)
    rebuilt = {s["id"] for s in second["build"]["steps"] if s["status"] == "built"}
    assert {"tor@musl", "cpython@gnu", "wheels@gnu", "freeze@gnu", "static@gnu"} <= rebuilt   # really cold
    for kind, path in chat_bundle.files.items():
        other = Path(second["files"][kind])
        assert other.name == path.name
        assert sha256_file(other) == sha256_file(path), f"{kind} differs: diffoscope {path} {other}"

"""Two cold builds from checkouts at different paths, with separate caches, give identical bytes.

The second build runs `invoke build` in the session's `second_checkout` (a copy of this
checkout at another path, fresh mtimes, its own empty step cache; only the verified
source tarballs are shared), so tor, CPython, the wheelhouse, the freeze, staticx, the
.deb and the .rpm are all made again there (the toolchain half may already have been
built there by the toolchain reproducibility test). Wall time: one cold build
(~6 min on an idle 2-core machine, ~16 min measured on a loaded one).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders.sources.verify import sha256_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # a whole cold build


def test_second_cold_build_elsewhere_is_bit_identical(chat_bundle, second_checkout, tmp_path):
    checkout, cache, run = second_checkout
    proc = run("build", "--app", "examples/chat", "--dist", str(tmp_path / "dist"), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(proc.stdout)
    # Everything came from the other checkout's own cache, made there.
    assert all(s["out"].startswith(str(cache)) for s in second["build"]["steps"])
    assert {"wheels@gnu", "freeze@gnu", "static@gnu", "deb@gnu", "rpm@gnu"} <= set(
        s["id"] for s in second["build"]["steps"] if s["status"] == "built")
    for kind, path in chat_bundle.files.items():
        other = Path(second["files"][kind])
        assert other.name == path.name
        assert sha256_of(other) == sha256_of(path), f"{kind} differs: diffoscope {path} {other}"
    print(f"\nsecond cold bundle build: {second['build']['wall_seconds']:.0f}s wall, "
          f"{second['build']['cpu_seconds']:.0f}s CPU")

"""What a rebuild re-runs: nothing when nothing changed; only freeze and packaging when the app did.

Both builds share the session's cache with `chat_bundle`. Wall time: ~1-3 min (one
freeze + staticx + deb + rpm for the changed app).
"""
from __future__ import annotations

import secrets
import shutil

import pytest

from fixtures.bundle import CHAT

from builders.bundle.app_build import build_app, sha256_file

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)

PACKAGING = {"freeze@gnu", "static@gnu", "deb@gnu", "rpm@gnu"}


def test_nothing_changed_runs_no_step_and_gives_the_same_files(chat_bundle, farm_cache, tmp_path):
    again = build_app(CHAT, "linux-x86_64", dist=tmp_path / "dist", cache_root=farm_cache)
    assert again.summary.built == []
    for kind, path in chat_bundle.files.items():
        assert sha256_file(again.files[kind]) == sha256_file(path), kind


def test_an_app_change_reruns_only_freeze_and_packaging(chat_bundle, farm_cache, tmp_path):
    app = tmp_path / "chat"
    shutil.copytree(CHAT, app)
    with open(app / "chat_app.py", "a") as f:
        f.write(f"\n# a developer's edit {secrets.token_hex(8)}\n")   # unique: never cached by an earlier run
    changed = build_app(app, "linux-x86_64", dist=tmp_path / "dist", cache_root=farm_cache)
    assert set(changed.summary.built) == PACKAGING
    assert sha256_file(changed.files["static"]) != sha256_file(chat_bundle.files["static"])
    assert changed.inputs["requirements"] == chat_bundle.inputs["requirements"]

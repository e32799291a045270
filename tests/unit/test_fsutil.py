"""atomic_write and ensure_private_dir: modes, replacement, and no damage when a write fails."""
import os
import stat

import pytest

from apaf import fsutil
from apaf.fsutil import atomic_write, ensure_private_dir, remove_stale_temps


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_private_dir_is_0700_even_if_it_existed_wider(tmp_path):
    d = tmp_path / "a" / "b"
    d.mkdir(parents=True, mode=0o755)
    os.chmod(d, 0o755)
    assert ensure_private_dir(d) == d and mode(d) == 0o700


def test_atomic_write_replaces_content_with_mode(tmp_path):
    target = tmp_path / "secret"
    atomic_write(target, b"one")
    atomic_write(target, "two")
    assert target.read_text() == "two" and mode(target) == 0o600
    atomic_write(target, "public", mode=0o644)
    assert mode(target) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temp file left behind


def test_failed_write_keeps_old_content_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "settings.json"
    atomic_write(target, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fsutil.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_remove_stale_temps(tmp_path):
    (tmp_path / ".x.key.abc.tmp").write_text("half")
    (tmp_path / "x.key").write_text("whole")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.key"]

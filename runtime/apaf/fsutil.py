"""Crash-safe file writes and private directories for everything APAF must never lose.

`atomic_write` writes to a temp file in the same directory, fsyncs it, renames it over the
target and fsyncs the directory: after a crash at any moment the path holds either the old
or the new content, never a partial one. Keys, settings, the password hash, torrc edits and
the status file all go through it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ensure_private_dir(path: Path | str, mode: int = 0o700) -> Path:
    """Create `path` (and parents) if missing and force its mode to `mode` (0700 default)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    if (path.stat().st_mode & 0o777) != mode:
        os.chmod(path, mode)
    return path


def remove_stale_temps(directory: Path | str) -> int:
    """Delete temp files an interrupted atomic_write left in `directory`; returns how many."""
    removed = 0
    for tmp in Path(directory).glob(".*.tmp"):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory for fsync
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path | str, data: bytes | str, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically (temp + fsync + rename + dir fsync), file mode `mode`.

    The parent directory must exist. `str` data is encoded as UTF-8. The temp file is
    created with `mode` from the start, so secret bytes are never readable by others.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)

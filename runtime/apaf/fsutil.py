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

from apaf.errors import ConfigError


def ensure_private_dir(path: Path | str, mode: int = 0o700) -> Path:
    """Create `path` (and parents) if missing and force its mode to `mode` (0700 default).

    A folder that exists already must be ours: another account that made it first (say
    `--data-dir /tmp/apaf`) keeps the right to chmod it and to swap what is in it (its keys
    folder for one holding keys it knows), whatever mode we set. ConfigError then.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    st = path.stat()
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise ConfigError(f"{path} belongs to another user (uid {st.st_uid}), who could swap the "
                          f"keys and settings kept in it: use a folder of your own (--data-dir), "
                          f"or remove this one if you made it under another account")
    if (st.st_mode & 0o777) != mode:
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

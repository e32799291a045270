"""Content hashes of input folders (an app directory, the runtime's sources).

The hash covers each file's relative path, executable bit and bytes, and
each symlink's target; mtimes, owners and build droppings (`__pycache__`,
`.git`, `*.pyc`) are ignored, so the same content hashes the same from any
checkout.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

IGNORED_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", "node_modules", ".venv"}
IGNORED_SUFFIXES = (".pyc", ".pyo")


def tree_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if not name.endswith(IGNORED_SUFFIXES):
                yield Path(dirpath) / name


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in tree_files(root):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            h.update(f"L {rel} {os.readlink(path)}\n".encode())
            continue
        mode = "x" if os.access(path, os.X_OK) else "-"
        h.update(f"F {rel} {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()

"""The content-addressed step cache: `<cache>/steps/<key>/{out/, log, meta.json}`.

An entry appears only by an atomic rename of a finished temp dir, so an
interrupted step (Ctrl-C, kill, full disk, dropped link) leaves nothing that
looks finished; stale temp dirs are swept by `prune`. A hit touches
`meta.json`, which `prune --older-than` reads as "last used".
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import CacheError


@dataclass(frozen=True)
class Entry:
    key: str
    path: Path

    @property
    def out(self) -> Path:
        return self.path / "out"

    @property
    def log(self) -> Path:
        return self.path / "log"

    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text())


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (also when it is not ours to signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_alive(name: str) -> bool:
    """Temp dirs are named .tmp-<key16>-<pid>-<random>: is that build still running?"""
    parts = name.split("-")
    return len(parts) >= 4 and parts[2].isdigit() and pid_alive(int(parts[2]))


def dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


class StepCache:
    def __init__(self, root: Path | None = None):
        self.root = (root or paths.cache_root()) / "steps"

    def lookup(self, key: str) -> Entry | None:
        path = self.root / key
        if (path / "meta.json").is_file() and (path / "out").is_dir():
            os.utime(path / "meta.json")
            return Entry(key, path)
        return None

    def begin(self, key: str) -> Path:
        """A fresh temp dir for building `key`; hand it to `commit` or `abandon`."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-{os.getpid()}-", dir=self.root))
        except OSError as exc:
            raise CacheError(f"cannot write the step cache at {self.root}: {exc}") from exc
        (tmp / "out").mkdir()
        return tmp

    def commit(self, key: str, tmp: Path, meta: dict) -> Entry:
        final = self.root / key
        try:
            with open(tmp / "meta.json.part", "w") as f:
                json.dump(meta, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp / "meta.json.part", tmp / "meta.json")
            for d in ("work",):
                shutil.rmtree(tmp / d, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                shutil.rmtree(tmp)  # someone else finished the same key first: same bytes
        except OSError as exc:
            self.abandon(tmp)
            hint = " (disk full: free space or run `ci/farm cache.prune`)" if exc.errno == errno.ENOSPC else ""
            raise CacheError(f"could not store step {key[:12]} in {self.root}: {exc}{hint}") from exc
        return Entry(key, final)

    def abandon(self, tmp: Path) -> None:
        shutil.rmtree(tmp, ignore_errors=True)

    def entries(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        return [Entry(p.name, p) for p in sorted(self.root.iterdir())
                if not p.name.startswith(".") and (p / "meta.json").is_file()]

    def stale_temps(self) -> list[Path]:
        """Temp dirs whose build is gone (its process no longer exists)."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir() if p.name.startswith(".tmp-") and not _owner_alive(p.name)]

    def prune(self, *, older_than_days: float | None = None, everything: bool = False,
              keep: set[str] = frozenset()) -> tuple[int, int]:
        """Remove entries (all, or unused for N days) and stale temp dirs; returns (count, bytes)."""
        removed = freed = 0
        now = time.time()
        victims = list(self.stale_temps())
        for e in self.entries():
            if e.key in keep:
                continue
            age_days = (now - (e.path / "meta.json").stat().st_mtime) / 86400
            if everything or (older_than_days is not None and age_days > older_than_days):
                victims.append(e.path)
        for v in victims:
            freed += dir_size(v)
            shutil.rmtree(v, ignore_errors=True)
            removed += 1
        return removed, freed

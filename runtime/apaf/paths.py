"""The data directory layout (`--data-dir D`) and the lock that gives one runtime exclusive use of it.

    D/tor/ (0700)  D/keys/<app>.key (0600)  D/settings.json  D/torrc.extra  D/admin/password
    D/apps/<name>/ (APAF_DATA_DIR)  D/tmp/<name>/ (TMPDIR)  D/run/status.json  D/run/lock
    D/run/logs/<name>.log  D/run/app-status/status.json (APAF_STATUS_FILE, for tor-status apps)

Default D: $XDG_DATA_HOME/apaf, else ~/.local/share/apaf (%APPDATA%\\apaf on Windows).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from apaf.errors import ConfigError
from apaf.fsutil import ensure_private_dir, remove_stale_temps

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a second runtime fails on tor's own lock
    fcntl = None


def default_data_dir() -> Path:
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "apaf"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "apaf"


@dataclass(frozen=True)
class Layout:
    root: Path

    tor = property(lambda self: self.root / "tor")
    keys = property(lambda self: self.root / "keys")
    settings = property(lambda self: self.root / "settings.json")
    torrc_extra = property(lambda self: self.root / "torrc.extra")
    run = property(lambda self: self.root / "run")
    status = property(lambda self: self.root / "run" / "status.json")
    # What apps with tor-status read (tor's state only): alone in its directory, which the
    # sandbox opens.
    app_status = property(lambda self: self.root / "run" / "app-status" / "status.json")
    lock = property(lambda self: self.root / "run" / "lock")

    def app_data(self, name: str) -> Path:
        return self.root / "apps" / name

    def app_tmp(self, name: str) -> Path:
        """The app's private temp directory (TMPDIR), the only other place it may write."""
        return self.root / "tmp" / name

    def app_log(self, name: str) -> Path:
        return self.run / "logs" / f"{name}.log"

    def prepare(self) -> None:
        for d in (self.root, self.tor, self.keys, self.run, self.root / "apps"):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            _check_owner(d)  # before the chmod, which fails (or, as root, succeeds) on another's
            ensure_private_dir(d)
        for d in (self.root, self.keys, self.run):  # left by a crash mid-write
            remove_stale_temps(d)


def _check_owner(path: Path) -> None:
    """ConfigError unless `path` is ours. Another account that made the data dir first (say
    `--data-dir /tmp/apaf`) keeps the right to chmod it and to swap what is in it (keys/ for one
    holding keys it knows), whatever mode we set. (The apps' own folders below D/apps are handed
    to the apps' uids when the runtime is root, so only the runtime's folders are checked.)"""
    uid = path.stat().st_uid
    if hasattr(os, "geteuid") and uid != os.geteuid():
        raise ConfigError(f"{path} belongs to another user (uid {uid}), who could swap the keys "
                          f"and settings kept in it: use a folder of your own (--data-dir), or "
                          f"remove this one if you made it under another account")


def lock_data_dir(layout: Layout):
    """Hold D/run/lock for as long as the returned file stays open; ConfigError if taken."""
    if fcntl is None:
        return None
    f = open(layout.lock, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise ConfigError(f"{layout.root} is in use by another `apaf run`; stop it first "
                          f"or pass a different --data-dir") from None
    return f


def unlock_data_dir(handle) -> None:
    if handle is not None:
        handle.close()


def data_dir_in_use(layout: Layout) -> bool:
    """True while some `apaf run` holds the lock on this data dir."""
    if fcntl is None or not layout.lock.exists():
        return False
    with open(layout.lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False

"""Find the tor binary: bundled next to the frozen executable, then configured/APAF_TOR, then PATH.

Also `child_env()`: the environment to start tor (or any non-Python child) with. PyInstaller
points LD_LIBRARY_PATH at its own unpack dir for children; tor must get the user's original.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from apaf.errors import TorNotFound

EXE = "tor.exe" if os.name == "nt" else "tor"
ENV_VAR = "APAF_TOR"


def bundled_candidates() -> list[Path]:
    """Where a frozen bundle keeps its tor: next to the executable, or in its unpack dir."""
    if not getattr(sys, "frozen", False):
        return []
    roots = [Path(sys.executable).resolve().parent]
    if hasattr(sys, "_MEIPASS"):
        roots.append(Path(sys._MEIPASS))
    return [p for root in roots for p in (root / EXE, root / "tor" / EXE)]


def find_tor(configured: str | os.PathLike | None = None) -> Path:
    """The tor to run; raises TorNotFound saying where it looked and how to fix it."""
    looked: list[str] = []
    for cand in bundled_candidates():
        looked.append(str(cand))
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    explicit = configured or os.environ.get(ENV_VAR)
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path.absolute()
        source = "--tor" if configured else ENV_VAR
        raise TorNotFound(f"{source}={explicit}: not an executable file; point it at a tor binary "
                          f"or unset it to use the one on PATH")
    # /usr/sbin is where Debian puts tor and is often missing from a user's PATH.
    search = os.environ.get("PATH", os.defpath) + os.pathsep + "/usr/sbin" + os.pathsep + "/usr/local/sbin"
    found = shutil.which(EXE, path=search)
    if found:
        return Path(found)
    looked.append("PATH")
    raise TorNotFound(f"no tor binary found (looked in {', '.join(looked)}); install tor "
                      f"(Debian: apt-get install tor) or set {ENV_VAR}=/path/to/tor")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ with the pre-PyInstaller LD_LIBRARY_PATH restored, plus `extra`."""
    env = dict(os.environ)
    if "LD_LIBRARY_PATH_ORIG" in env:
        env["LD_LIBRARY_PATH"] = env.pop("LD_LIBRARY_PATH_ORIG")
    elif getattr(sys, "frozen", False):
        env.pop("LD_LIBRARY_PATH", None)
    env.update(extra or {})
    return env

"""Opening the admin UI in the user's browser when the runtime starts on a desktop.

A double-clicked bundle (the macOS .app, a desktop menu entry) has no terminal the
user reads, so the runtime opens the default browser itself, on the admin server's
one-time launch link (see apaf.admin.keys.Launch: a browser's command line is readable
by other local programs, so it never carries the admin UI's secret address, and
apaf.admin.peer refuses it to any other account). Only
when a desktop session is there — never in an SSH session, a service or a container
without a display — and not with --no-browser or --no-admin.

Started that way with no terminal (a menu entry with ``Terminal=false``, a double
click: stdin is not a tty), the runtime is *unattended*: nobody reads what it
prints, and a desktop may keep it in a journal others can read.  It then writes
its output to ``D/run/logs/apaf.log`` (0600) instead, without the admin address,
the first-boot password and link or the owner link (the browser, through the
first-run wizard, is where the owner sees those).
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, TextIO

from apaf.fsutil import ensure_private_dir


def _x11_or_wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _macos(env: Mapping[str, str]) -> bool:
    # A login session has the window server; an SSH session has no screen to show a browser on.
    return not env.get("SSH_CONNECTION")


def _windows(env: Mapping[str, str]) -> bool:
    return True


# sys.platform -> "is there a screen the user sees"; anything else (Linux, BSD) asks X11/Wayland.
_DESKTOP: dict[str, Callable[[Mapping[str, str]], bool]] = {"darwin": _macos, "win32": _windows}


def has_desktop(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> bool:
    return _DESKTOP.get(platform, _x11_or_wayland)(os.environ if env is None else env)


def open_browser(url: str) -> bool:
    """Open url in the default browser (webbrowser: $BROWSER, xdg-open, `open`, the shell);
    False when none could be started."""
    import webbrowser  # here: most runs never open a browser (--no-browser, no desktop)

    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False


def unattended(*, browser: bool, stdin: TextIO | None = None, env: Mapping[str, str] | None = None,
               platform: str = sys.platform) -> bool:
    """True when no terminal is attached but a desktop is, and the browser will be opened
    (``browser``: neither --no-browser nor --no-admin)."""
    stdin = sys.stdin if stdin is None else stdin
    try:
        terminal = stdin is not None and stdin.isatty()
    except ValueError:  # closed
        terminal = False
    return browser and not terminal and has_desktop(env, platform)


def log_path(data_dir: Path) -> Path:
    return Path(data_dir).absolute() / "run" / "logs" / "apaf.log"


def log_to(path: Path) -> None:
    """Send everything this process and its children write to stdout and stderr to
    ``path`` (appended, 0600 in a 0700 folder)."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)  # an older file with looser permissions
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"--- apaf started {stamp} (no terminal: this log, the browser for the rest)", flush=True)

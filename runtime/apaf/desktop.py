"""Opening the admin UI in the user's browser when the runtime starts on a desktop.

A double-clicked bundle (the macOS .app, a desktop menu entry) has no terminal the
user reads, so the runtime opens the default browser itself, on the admin server's
one-time launch link (see apaf.admin.keys.Launch: a browser's command line is readable
by other local programs, so it never carries the admin UI's secret address). Only
when a desktop session is there — never in an SSH session, a service or a container
without a display — and not with --no-browser or --no-admin.
"""
from __future__ import annotations

import os
import sys
import webbrowser
from typing import Callable, Mapping


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
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False

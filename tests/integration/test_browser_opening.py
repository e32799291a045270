"""When `apaf run` opens no browser: --no-browser, or no desktop session.

The real runtime on the private Tor network. The browser is a stand-in command (named
through $BROWSER, which Python's webbrowser honours) that records the URL it is given.
That a desktop start opens it, once, on a one-time link that leaks no secret, is
test_first_run_wizard.py (which then walks the wizard in chromium).
"""
from __future__ import annotations

import stat
from pathlib import Path

from fixtures.runtime import apaf_run

REPO = Path(__file__).resolve().parents[2]
STATIC_SITE = REPO / "examples" / "static-site"


def _recording_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    record = tmp_path / "urls"
    browser = tmp_path / "stand-in-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {record}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return {"DISPLAY": ":99", "BROWSER": str(browser)}, record


def test_no_browser_and_no_desktop_open_nothing(testnet, tmp_path):
    env, record = _recording_browser(tmp_path)
    with apaf_run(tmp_path / "data", [STATIC_SITE], testnet, "--no-browser", env=env) as rt:
        assert not any(ln.startswith("opened the admin UI") for ln in rt.lines)
        # Not unattended (apaf.desktop): the addresses are printed as usual, nothing is logged.
        assert any(ln.startswith("admin: http://admin-") for ln in rt.lines)
        assert not (tmp_path / "data" / "run" / "logs" / "apaf.log").exists()
    with apaf_run(tmp_path / "data2", [STATIC_SITE], testnet, env={"BROWSER": env["BROWSER"]}) as rt:
        assert not any(ln.startswith("opened the admin UI") for ln in rt.lines)   # no DISPLAY: a server
    assert not record.exists()

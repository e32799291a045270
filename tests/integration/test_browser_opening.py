"""`apaf run` on a desktop opens the default browser on the admin UI, once, without leaking its address.

The real runtime on the private Tor network. The browser is a stand-in command (named
through $BROWSER, which Python's webbrowser honours) that records the URL it is given:
what any program on the machine could read from a browser's command line.
"""
from __future__ import annotations

import re
import stat
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fixtures.runtime import apaf_run

REPO = Path(__file__).resolve().parents[2]
STATIC_SITE = REPO / "examples" / "static-site"


def _recording_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    record = tmp_path / "urls"
    browser = tmp_path / "stand-in-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {record}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return {"DISPLAY": ":99", "BROWSER": str(browser)}, record


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.headers.get("Location", ""), r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", ""), err.read().decode()


def _wait_for(path: Path, timeout: float = 10.0) -> str:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.1)
    return ""


def test_first_start_on_a_desktop_opens_the_browser_on_a_one_time_link(testnet, tmp_path):
    env, record = _recording_browser(tmp_path)
    with apaf_run(tmp_path / "data", [STATIC_SITE], testnet, env=env) as rt:
        assert "opened the admin UI in your browser" in rt.lines
        admin = next(ln.split(": ", 1)[1] for ln in rt.lines if ln.startswith("admin: "))
        first_boot = next(ln.split(": ", 1)[1] for ln in rt.lines if ln.startswith("first-boot link "))
        urls = _wait_for(record).split()
        assert len(urls) == 1, urls
        opened = urls[0]
        secret = re.match(r"http://([^:/]+):", admin).group(1)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/open/[A-Za-z0-9_-]{43}", opened), opened
        assert secret not in opened
        # The browser's first request lands on the first-boot page at the secret address ...
        assert _get(opened)[:2] == (303, first_boot)
        # ... and whoever reads the command line afterwards finds a dead link.
        status, location, body = _get(opened)
        assert status == 404 and not location and secret not in body


def test_no_browser_and_no_desktop_open_nothing(testnet, tmp_path):
    env, record = _recording_browser(tmp_path)
    with apaf_run(tmp_path / "data", [STATIC_SITE], testnet, "--no-browser", env=env) as rt:
        assert not any(ln.startswith("opened the admin UI") for ln in rt.lines)
    with apaf_run(tmp_path / "data2", [STATIC_SITE], testnet, env={"BROWSER": env["BROWSER"]}) as rt:
        assert not any(ln.startswith("opened the admin UI") for ln in rt.lines)   # no DISPLAY: a server
    assert not record.exists()

"""A double-clicked bundle on a desktop: the browser opens on the first-run wizard, in Debian's chromium.

The real runtime on the private Tor network, started as a menu entry with
``Terminal=false`` starts it: no terminal (stdin is not a tty), a desktop session
(DISPLAY).  The default browser is a stand-in command (named through $BROWSER, which
Python's webbrowser honours) that records the URL it is given, which is what any
program on the machine could read from a browser's command line; chromium then
opens that URL and walks the wizard as the owner would.  The second start on the
same data folder must land on the normal admin page.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.async_api import expect

from fixtures.browser import screenshot, watch
from fixtures.runtime import ENVECHO, ApafProcess, aget_via_tor, descendants

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPO = Path(__file__).resolve().parents[2]
STATIC_SITE = REPO / "examples" / "static-site"
SECRET_HOST = r"admin-[a-z2-7]{26}\.localhost"


def _stand_in_browser(tmp_path: Path) -> Path:
    record = tmp_path / "urls"
    browser = tmp_path / "stand-in-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {record}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return browser


def _start_from_menu(data: Path, testnet, browser: Path) -> ApafProcess:
    """`apaf run` as a desktop menu entry starts it: no terminal, DISPLAY set."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", BROWSER=str(browser), APAF_TESTNET_DIR=str(testnet.workdir),
               PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "apaf.cli", "run", "--testnet", "--wait-published",
           "--data-dir", str(data), str(STATIC_SITE), str(ENVECHO)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    return ApafProcess(proc, data)


def _wait_logged(rt: ApafProcess, text: str, times: int = 1, timeout: float = 120) -> str:
    log = rt.data_dir / "run" / "logs" / "apaf.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text() if log.exists() else ""
        if content.count(text) >= times:
            return content
        assert rt.proc.poll() is None, f"apaf exited ({rt.proc.returncode}): {content}"
        time.sleep(0.1)
    raise AssertionError(f"{log} never said {text!r} in {timeout} s")


def _recorded(record: Path, n: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        urls = record.read_text().split() if record.exists() else []
        if len(urls) >= n:
            return urls
        time.sleep(0.1)
    return record.read_text().split() if record.exists() else []


def _status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def _settings(data: Path) -> dict:
    path = data / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())


async def test_menu_launch_opens_the_first_run_wizard_then_the_admin_page(browser, testnet, tmp_path):
    data, stand_in = tmp_path / "data", _stand_in_browser(tmp_path)
    record = tmp_path / "urls"
    rt = _start_from_menu(data, testnet, stand_in)
    try:
        await asyncio.to_thread(_wait_logged, rt, "data: ")
        # The browser is opened beside the start-up (a browser that stays open holds nothing up).
        log = await asyncio.to_thread(_wait_logged, rt, "opened the admin UI in your browser")
        # Nothing is lost for want of a terminal: the log is in the data folder, private, and
        # holds neither the admin address nor the password.
        log_path = data / "run" / "logs" / "apaf.log"
        assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
        assert "opened the admin UI in your browser" in log
        envecho = re.search(r"^envecho: http://([a-z2-7]{56}\.onion)/$", log, re.M).group(1)
        assert not re.search(SECRET_HOST, log) and "password" not in log and "first-boot" not in log

        urls = await asyncio.to_thread(_recorded, record, 1)
        assert len(urls) == 1, urls
        opened = urls[0]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/open/[A-Za-z0-9_-]{43}", opened), opened

        context = await browser.new_context()
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        watch(page)
        await page.goto(opened)
        # The launch link led to the wizard, at the secret address, logged in.
        assert re.fullmatch(rf"http://{SECRET_HOST}:\d+/welcome", page.url), page.url
        admin = page.url.rsplit("/", 1)[0]
        await expect(page.locator("#bootstrap-done")).to_be_visible(timeout=60_000)
        await expect(page.locator("#bootstrap-percent")).to_have_text("100")
        assert await page.evaluate("() => document.querySelector('img.splash').naturalWidth") > 0
        password = await page.inner_text("#first-boot-password")
        assert len(password) >= 20
        await page.click("button[data-copy='first-boot-password']")
        await expect(page.locator("button[data-copy='first-boot-password']")).to_have_text("Copied")
        assert await page.evaluate("() => navigator.clipboard.readText()") == password
        await screenshot(page, "wizard-welcome")

        await page.reload()                      # shown once: a reload does not show it again
        await expect(page.locator("#password-shown-before")).to_be_visible()
        assert password not in await page.content()
        # Whoever reads the browser's command line now finds a dead link.
        assert await asyncio.to_thread(_status_of, opened) == 404

        await page.check("#password-saved")
        async with page.expect_navigation():
            await page.click("#welcome-next")
        assert page.url == f"{admin}/welcome/apps"
        await page.uncheck("input[name=app][value='static-site']")
        await page.check("input[name=app][value='envecho']")
        async with page.expect_navigation():
            await page.click("#wizard-apps-next")
        assert page.url == f"{admin}/welcome/tor2web"
        assert _settings(data)["enabled_apps"] == ["envecho"]

        await expect(page.locator("#tor2web-refuse")).to_be_checked()
        await page.check("#tor2web-allow")
        async with page.expect_navigation(timeout=60_000):
            await page.click("#wizard-tor2web-next")
        assert page.url == f"{admin}/welcome/share"
        assert _settings(data)["allow_tor2web"] is True

        shown = page.locator("code.onion-url")
        await expect(shown).to_have_count(1)                  # static-site no longer runs
        assert await shown.inner_text() == f"http://{envecho}/"
        await page.click("button[data-copy='onion-1']")
        await expect(page.locator("button[data-copy='onion-1']")).to_have_text("Copied")
        assert await page.evaluate("() => navigator.clipboard.readText()") == f"http://{envecho}/"
        await screenshot(page, "wizard-share")
        # The choice is applied: the app, restarted, answers at the same address with tor2web allowed.
        code, body = await aget_via_tor(testnet.socks, f"http://{envecho}/", timeout=90)
        assert code == 200 and json.loads(body)["APAF_ALLOW_TOR2WEB"] == "1"

        async with page.expect_navigation():
            await page.click("#wizard-finish")
        assert page.url == f"{admin}/status"
        await expect(page.locator(".flash.ok")).to_contain_text("Setup finished")
        assert stat.S_IMODE((data / "admin" / "first-run-done").stat().st_mode) == 0o600
        assert page.apaf_errors == [] and page.apaf_dialogs == []
        await context.close()
    finally:
        rt.close()

    # The next launch: the browser lands on the normal admin page (login), never the wizard.
    rt = _start_from_menu(data, testnet, stand_in)
    try:
        await asyncio.to_thread(_wait_logged, rt, "data: ", 2)
        log = await asyncio.to_thread(_wait_logged, rt, "opened the admin UI in your browser", 2)
        assert log.count("opened the admin UI in your browser") == 2
        assert log.count("apaf started ") == 2
        urls = await asyncio.to_thread(_recorded, record, 2)
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(urls[1])
        assert re.fullmatch(rf"http://{SECRET_HOST}:\d+/login", page.url), page.url
        await page.fill("#password", password)
        async with page.expect_navigation():
            await page.click("form[action='/login'] button")
        assert page.url.endswith("/status")
        await expect(page.locator("#setup-unfinished")).to_have_count(0)
        await page.goto(page.url.replace("/status", "/welcome"))
        assert page.url.endswith("/status")
        # No terminal to press Ctrl-C in: the admin page stops the app.
        async with page.expect_navigation():
            await page.click("#quit")
        await expect(page.locator("#stopped")).to_be_visible()
        assert await asyncio.to_thread(rt.proc.wait, 30) == 0
        assert not [p for p in descendants(rt.proc.pid)]
        await context.close()
    finally:
        rt.close()

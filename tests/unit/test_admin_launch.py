"""The one-time link the runtime opens the browser on, and when it opens one at all."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import aiohttp

from apaf import desktop
from apaf.admin import serve

from fixtures.admin_ui import RuntimeControlDouble


async def _get(url: str, host: str | None = None) -> tuple[int, str, str]:
    headers = {"Host": host} if host else {}
    async with aiohttp.ClientSession() as s:
        async with s.get(url, allow_redirects=False, headers=headers) as r:
            return r.status, r.headers.get("Location", ""), await r.text()


async def test_launch_link_leads_once_to_the_first_boot_page_and_carries_no_secret(tmp_path):
    server = await serve(RuntimeControlDouble(), tmp_path)
    try:
        name = server.url.split("//")[1].split(":")[0]
        assert server.launch_url.startswith(server.listen_url + "open/")
        assert name not in server.launch_url and server.first_boot_password not in server.launch_url
        status, location, _ = await _get(server.launch_url)
        assert (status, location) == (303, server.first_boot_url)
        status, location, body = await _get(server.launch_url)          # used: dead
        assert status == 404 and not location and name not in body
    finally:
        await server.close()


async def test_launch_link_after_first_boot_leads_to_the_admin_ui(tmp_path):
    server = await serve(RuntimeControlDouble(), tmp_path)
    await server.close()
    again = await serve(RuntimeControlDouble(), tmp_path)          # the password exists now
    try:
        assert again.first_boot_url is None
        status, location, _ = await _get(again.launch_url)
        assert (status, location) == (303, again.url)
    finally:
        await again.close()


async def test_wrong_token_or_foreign_host_gets_nothing(tmp_path):
    server = await serve(RuntimeControlDouble(), tmp_path)
    try:
        name = server.url.split("//")[1].split(":")[0]
        status, location, body = await _get(server.listen_url + "open/" + "A" * 43)
        assert status == 404 and name not in body
        # A rebinding page's own name is refused before the token is even looked at.
        status, location, body = await _get(server.launch_url, host=f"evil.example:{server.url.rsplit(':', 1)[1]}")
        assert status == 421 and not location and name not in body
        status, _, _ = await _get(server.launch_url)                # and the link still works
        assert status == 303
        # Every other page stays on the secret name only.
        status, _, _ = await _get(server.listen_url + "login")
        assert status == 421
    finally:
        await server.close()


def test_a_browser_is_opened_only_where_a_user_sees_a_screen():
    assert desktop.has_desktop({"DISPLAY": ":0"}, "linux")
    assert desktop.has_desktop({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not desktop.has_desktop({}, "linux")                       # a server, a container, CI
    assert desktop.has_desktop({}, "darwin")
    assert not desktop.has_desktop({"SSH_CONNECTION": "10.0.0.1 1 10.0.0.2 22"}, "darwin")
    assert desktop.has_desktop({}, "win32")


class _Stdin:
    def __init__(self, tty: bool | None):
        self.tty = tty

    def isatty(self) -> bool:
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


def test_unattended_means_no_terminal_but_a_desktop_and_a_browser_to_open():
    linux = {"env": {"DISPLAY": ":0"}, "platform": "linux"}
    assert desktop.unattended(browser=True, stdin=_Stdin(False), **linux)      # a menu entry
    assert desktop.unattended(browser=True, stdin=_Stdin(None), **linux)       # stdin closed
    assert not desktop.unattended(browser=True, stdin=_Stdin(True), **linux)   # a terminal
    assert not desktop.unattended(browser=False, stdin=_Stdin(False), **linux)  # --no-browser
    assert not desktop.unattended(browser=True, stdin=_Stdin(False), env={}, platform="linux")


def test_unattended_output_goes_to_a_private_log_with_what_children_write(tmp_path):
    log = desktop.log_path(tmp_path / "data")
    code = ("import subprocess, sys\nfrom pathlib import Path\nfrom apaf import desktop\n"
            f"desktop.log_to(Path({str(log)!r}))\n"
            "print('to stdout')\nprint('to stderr', file=sys.stderr)\n"
            "subprocess.run(['sh', '-c', 'echo from a child'])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    lines = log.read_text().splitlines()
    assert lines[0].startswith("--- apaf started ")
    assert lines[1:] == ["to stdout", "to stderr", "from a child"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_browser_that_stays_open_does_not_hold_the_runtime_up(tmp_path):
    """webbrowser waits for a $BROWSER command (or a console browser) to exit: run from the
    event loop, the runtime stood still while it ran, and a browser loading the admin UI
    waited on a runtime that waited on it."""
    record, release, exited = tmp_path / "urls", tmp_path / "release", tmp_path / "exited"
    browser = tmp_path / "stand-in-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" > {record}\n'
                       f'i=0; while [ ! -e {release} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n'
                       f': > {exited}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    url = "http://127.0.0.1:1/open/token"
    code = ("import argparse, os, threading, time\nfrom apaf import cli\n"
            f"cli._open_browser(argparse.Namespace(no_browser=False), {url!r})\n"
            "deadline = time.monotonic() + 20\n"
            f"while not os.path.exists({str(record)!r}) and time.monotonic() < deadline:\n"
            "    time.sleep(0.05)\n"
            f"print('browser exited before we went on:', os.path.exists({str(exited)!r}), flush=True)\n"
            f"open({str(release)!r}, 'w').close()\n"
            "for t in threading.enumerate():\n"
            "    if t is not threading.main_thread():\n"
            "        t.join(30)\n")
    env = {**os.environ, "DISPLAY": ":99", "BROWSER": str(browser)}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90, env=env)
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().strip() == url
    assert proc.stdout.splitlines() == ["browser exited before we went on: False",
                                        "opened the admin UI in your browser"], proc.stdout

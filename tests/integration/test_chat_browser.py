"""The chat page in real chromium under its strict CSP: two users talk, markup stays text.

Starts examples/chat/chat_app.py as the runtime would (APAF_* environment, loopback),
opens two browser contexts, joins the same room and exchanges messages.  Any CSP
violation or script error fails the test.  Wall time: ~5 s.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import expect

from fixtures.apache import free_port, stop, wait_for_port
from fixtures.browser import watch

pytestmark = pytest.mark.asyncio(loop_scope="session")
CHAT = Path(__file__).resolve().parents[2] / "examples" / "chat"
EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, APAF_BIND_HOST="127.0.0.1", APAF_PORT=str(port),
               APAF_APP_DIR=str(CHAT), APAF_SETTINGS="{}",
               APAF_DATA_DIR=str(tmp_path_factory.mktemp("chat-data")))
    proc = subprocess.Popen([sys.executable, str(CHAT / "chat_app.py")], env=env)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)


async def open_user(browser, url, name):
    context = await browser.new_context()
    page = await context.new_page()
    watch(page)
    page.apaf_console = []
    page.on("console", lambda msg: page.apaf_console.append(msg.text))
    await page.goto(url)
    await page.fill("#name", name)
    await page.fill("#room", "lobby")
    await page.click("#join-form button")
    await page.wait_for_selector("#chat:not([hidden])")
    return context, page


async def test_two_browsers_chat_under_the_csp(browser, chat_url):
    ctx_a, alice = await open_user(browser, chat_url, "alice")
    ctx_b, bob = await open_user(browser, chat_url, "bob")
    try:
        await expect(alice.locator("#users")).to_contain_text("bob", timeout=30_000)
        await alice.fill("#text", "hello bob")
        await alice.press("#text", "Enter")
        await expect(bob.locator("#messages")).to_contain_text("hello bob", timeout=30_000)
        await bob.fill("#text", EVIL)
        await bob.press("#text", "Enter")
        await expect(alice.locator("#messages")).to_contain_text(EVIL, timeout=30_000)
        for page in (alice, bob):
            assert await page.locator("#messages img, #messages script").count() == 0
            assert page.apaf_dialogs == [], "user text ran as script"
            assert page.apaf_errors == []
            violations = [m for m in page.apaf_console if "Content Security Policy" in m]
            assert violations == []
    finally:
        await ctx_a.close()
        await ctx_b.close()

"""The chat page in real chromium under its strict CSP: two users talk, markup stays text,
and a joiner's page shows a history that came in many parts, in order.

Starts examples/chat/chat_app.py as the runtime would (APAF_* environment, loopback),
opens browser contexts, joins rooms and exchanges messages.  Any CSP violation or script
error fails the test.  Wall time: ~8 s.
"""
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
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


async def open_user(browser, url, name, room="lobby"):
    context = await browser.new_context()
    page = await context.new_page()
    watch(page)
    page.apaf_console = []
    page.on("console", lambda msg: page.apaf_console.append(msg.text))
    await page.goto(url)
    await page.fill("#name", name)
    await page.fill("#room", room)
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


async def test_a_joiner_sees_a_history_sent_in_parts_in_order(browser, chat_url):
    """100 messages of 500 "é" (the default settings' bounds) are 300 KB of JSON: about 20
    history parts.  The page shows them all, in order, then what is said next."""
    said = [f"{n:03d} " + "é" * 496 for n in range(100)]
    async with aiohttp.ClientSession() as session:
        ws_url = chat_url.replace("http://", "ws://") + "ws?room=archive&name="
        members = [await session.ws_connect(ws_url + f"m{i}") for i in range(10)]

        async def say(ws, text):  # and wait for it to come back, so the order is ours
            await ws.send_json({"text": text})
            async for msg in ws:
                data = json.loads(msg.data)
                if data["type"] == "message" and data["text"] == text:
                    return

        for n, text in enumerate(said):
            await say(members[n // 10], text)
        for ws in members[1:]:
            await ws.close()
        ctx, page = await open_user(browser, chat_url, "reader", room="archive")
        try:
            texts = page.locator("#messages .text")
            await expect(texts).to_have_count(100, timeout=30_000)
            assert await texts.all_text_contents() == said
            await asyncio.wait_for(say(members[0], "after the history"), 10)
            await expect(texts.last).to_have_text("after the history", timeout=30_000)
            await expect(texts).to_have_count(101)
            assert page.apaf_errors == []
            assert [m for m in page.apaf_console if "Content Security Policy" in m] == []
        finally:
            await ctx.close()
            await members[0].close()

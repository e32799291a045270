"""Hostile pages in the user's own chromium cannot drive, read, frame or rebind the admin UI.

The user is logged in (the session cookie is in the browser); a page on another
127.0.0.1 port (same *site*, so SameSite cookies do flow: the case of any local app)
then tries a forged form post, a no-cors fetch post, a credentialed read of the JSON
status and an iframe.  The admin UI runs on a RuntimeControlDouble, which records
whether anything reached the runtime.  DNS rebinding uses a second chromium whose
resolver maps a foreign name to 127.0.0.1.
"""
from __future__ import annotations

import pytest
import pytest_asyncio
from aiohttp import web

from fixtures.browser import CHROMIUM, CHROMIUM_ARGS, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVIL_PAGES = {
    "form": """<form id="f" method="post" action="{admin}service/stop">
<input name="csrf" value="guessed"></form>
<script>document.getElementById("f").submit()</script>""",
    "fetch": """<script>
fetch("{admin}service/stop", {{method: "POST", mode: "no-cors", credentials: "include",
  body: new URLSearchParams({{csrf: "guessed"}})}})
  .then(() => {{ window.posted = "sent"; }}, () => {{ window.posted = "blocked"; }});
fetch("{admin}api/status", {{credentials: "include"}}).then((r) => r.text())
  .then((t) => {{ window.leak = t; }}, () => {{ window.leak = "blocked"; }});
</script>""",
    "frame": """<iframe id="f" src="{admin}status" width="800" height="400"></iframe>""",
}


@pytest_asyncio.fixture(loop_scope="session")
async def evil_site(served_admin):
    """A hostile site on another loopback port; its pages target the admin UI."""
    _, admin = served_admin

    async def page(request):
        html = EVIL_PAGES[request.match_info["name"]].format(admin=admin.url)
        return web.Response(text=f"<!doctype html><title>evil</title>{html}",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    await runner.cleanup()


async def _login(page, admin) -> None:
    await page.goto(admin.url + "login")
    await page.fill("#password", admin.first_boot_password)
    async with page.expect_navigation():
        await page.click("form[action='/login'] button")
    assert await page.is_visible("text=Log out")


async def test_forged_form_post_from_a_local_page_refused(page, served_admin, evil_site):
    control, admin = served_admin
    await _login(page, admin)
    async with page.expect_navigation(url=admin.url + "service/stop") as nav:
        await page.goto(evil_site + "form")
    response = await nav.value
    assert response.status == 403
    await screenshot(page, "admin-attack-forged-form")
    assert control.calls == [] and control.service_running


async def test_fetch_from_a_local_page_can_neither_post_nor_read(page, served_admin, evil_site):
    control, admin = served_admin
    await _login(page, admin)
    await page.goto(evil_site + "fetch")
    await page.wait_for_function("() => window.posted && window.leak", timeout=10_000)
    assert await page.evaluate("() => window.leak") == "blocked"
    assert control.calls == [] and control.service_running


async def test_admin_ui_cannot_be_framed(page, served_admin, evil_site):
    _, admin = served_admin
    await _login(page, admin)
    await page.goto(evil_site + "frame")  # waits for the load event, iframe included
    frame = next(f for f in page.frames if f != page.main_frame)
    assert "Onion service" not in await frame.content()
    await screenshot(page, "admin-attack-frame")


async def test_dns_rebinding_refused(served_admin):
    _, admin = served_admin
    from playwright.async_api import async_playwright

    port = admin.url.rstrip("/").rsplit(":", 1)[1]
    rules = "--host-resolver-rules=MAP rebind.test 127.0.0.1"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=[*CHROMIUM_ARGS, rules])
        try:
            page = await browser.new_page()
            response = await page.goto(f"http://rebind.test:{port}/login")
            assert response.status == 421
            assert await page.locator("#password").count() == 0
        finally:
            await browser.close()

"""The admin UI's page script updates tor's bootstrap progress live, in Debian's chromium.

Tor on the private network bootstraps too fast to watch, so here the admin UI (the
real server, the real page script) runs on a RuntimeControlDouble whose bootstrap
progress the test moves; the browser must show each step without a reload.
"""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from fixtures.browser import screenshot

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _login(page, admin) -> None:
    await page.goto(admin.url + "login")
    await page.fill("#password", admin.first_boot_password)
    async with page.expect_navigation():
        await page.click("form[action='/login'] button")


async def test_bootstrap_progress_updates_without_reload(page, served_admin):
    control, admin = served_admin
    await _login(page, admin)
    assert page.url.endswith("/bootstrap")  # not bootstrapped yet: the progress page
    assert await page.get_attribute("#bootstrap-progress", "value") == "15"
    assert await page.is_hidden("#bootstrap-done")
    await screenshot(page, "admin-bootstrap-15")
    await page.evaluate("() => { window.__sameDocument = true; }")  # lost on any reload
    control.bootstrap = 60
    await expect(page.locator("#bootstrap-progress")).to_have_js_property("value", 60,
                                                                       timeout=10_000)
    assert await page.inner_text("#bootstrap-summary") == "Loading"
    control.bootstrap = 100
    await page.wait_for_selector("#bootstrap-done:not([hidden])", timeout=10_000)
    assert await page.inner_text("#bootstrap-percent") == "100"
    assert await page.inner_text("#bootstrap-summary") == "Done"
    assert await page.evaluate("() => window.__sameDocument") is True
    assert page.apaf_errors == [] and page.apaf_dialogs == []


async def test_status_page_follows_the_service_state(page, served_admin):
    control, admin = served_admin
    control.bootstrap = 100
    await _login(page, admin)
    assert page.url.endswith("/status")
    assert await page.inner_text("#service-state") == "running"
    control.service_running = False  # changed behind the page's back (e.g. another tab)
    await page.wait_for_selector("#service-state:text('stopped')", timeout=10_000)
    assert await page.inner_text("tr[data-app='site'] [data-field=published]") == "no"

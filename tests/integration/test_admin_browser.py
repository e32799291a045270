"""The admin UI in Debian's chromium against the real runtime on the private Tor network.

One `apaf run examples/static-site hello --testnet` per module; the tests below run
in order on one logged-in browser context, as a user would: first-boot password,
bootstrap and status, stop/start, reachability, torrc edits, apps, password change.
Screenshots go to test-artifacts/admin-*.png; page load times are printed at the end
and written to test-artifacts/admin-page-loads.txt.
"""
from __future__ import annotations

import re
import stat
import statistics

import pytest
import pytest_asyncio

from fixtures.admin_runtime import XSS, AdminUI
from fixtures.browser import ARTIFACTS, screenshot
from fixtures.runtime import aget_via_tor

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]
ONION_WAIT_MS = 120_000
SITE = "tr[data-app='static-site']"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ui(browser, admin_runtime):
    ui = await AdminUI.open(browser, admin_runtime)
    yield ui
    await ui.close()
    _report_load_times(admin_runtime.load_times)


def _report_load_times(times: dict[str, list[float]]) -> None:
    lines = [f"{'page':<22} {'n':>3} {'median ms':>10} {'max ms':>8}"]
    for label, values in sorted(times.items()):
        lines.append(f"{label:<22} {len(values):>3} {statistics.median(values):>10.1f} "
                     f"{max(values):>8.1f}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "admin-page-loads.txt").write_text("\n".join(lines) + "\n")
    print("\nadmin UI page load times (navigation start to load event):\n" + "\n".join(lines))


async def test_first_boot_link_shows_the_terminal_password_once(browser, admin_runtime):
    one = await AdminUI.open(browser, admin_runtime)
    try:
        await one.page.goto(admin_runtime.first_boot_url)
        assert await one.text("#first-boot-password") == admin_runtime.first_boot_password
        await screenshot(one.page, "admin-first-boot")
        again = await one.page.goto(admin_runtime.first_boot_url)
        assert again.status == 404
        assert admin_runtime.first_boot_password not in await one.page.content()
    finally:
        await one.close()


async def test_log_in_with_first_boot_password(ui, admin_runtime):
    await ui.goto("/status")
    assert ui.page.url.endswith("/login")  # no session: sent to the login page
    await ui.login("wrong password")
    assert "Wrong password" in await ui.flash()
    await ui.login(admin_runtime.password)
    assert re.search(r"/(bootstrap|status)$", ui.page.url)
    assert await ui.page.is_visible("text=Log out")


async def test_bootstrap_page_shows_progress_and_splash(ui):
    await ui.goto("/bootstrap")
    await ui.page.wait_for_selector("#bootstrap-done:not([hidden])", timeout=ONION_WAIT_MS)
    assert await ui.page.get_attribute("#bootstrap-progress", "value") == "100"
    assert await ui.text("#bootstrap-percent") == "100"
    # examples/static-site's splash image, served by the admin UI itself.
    assert await ui.page.eval_on_selector("img.splash", "i => i.complete && i.naturalWidth") > 0
    await screenshot(ui.page, "admin-bootstrap")


async def test_status_shows_tor_and_the_onion_addresses(ui, admin_runtime):
    await ui.goto("/status")
    assert re.match(r"\d+\.\d+\.\d+", await ui.text("#tor-version"))
    assert await ui.text("#service-state") == "running"
    for name, onion in admin_runtime.onions.items():
        assert await ui.text(f"tr[data-app='{name}'] [data-field=onion]") == onion
    # The page script polls the status: "published" turns to yes without a reload.
    await ui.page.wait_for_selector(f"{SITE} [data-field=published]:text('yes')",
                                    timeout=ONION_WAIT_MS)
    await screenshot(ui.page, "admin-status")


async def test_stop_and_start_the_onion_service(ui):
    await ui.goto("/status")
    await ui.submit("#service-stop", "POST /service/stop")
    assert "Onion service stopped." in await ui.flash()
    assert await ui.text("#service-state") == "stopped"
    assert await ui.text(f"{SITE} [data-field=published]") == "no"
    await screenshot(ui.page, "admin-service-stopped")
    await ui.submit("#service-start", "POST /service/start")
    assert "Onion service started." in await ui.flash()
    assert await ui.text("#service-state") == "running"
    await ui.page.wait_for_selector(f"{SITE} [data-field=published]:text('yes')",
                                    timeout=ONION_WAIT_MS)


async def test_reachability_test_shows_result_and_time(ui):
    await ui.goto("/status")
    await ui.submit(f"{SITE} .reachability-test", "POST /reachability", timeout=ONION_WAIT_MS)
    flash = await ui.flash()
    assert re.search(r"static-site: reachable through Tor in \d+\.\d s\.", flash), flash
    assert (await ui.text(f"{SITE} [data-field=reachability]")).startswith("reachable in ")
    await screenshot(ui.page, "admin-reachability")


async def test_torrc_valid_edit_applies_invalid_edit_keeps_old(ui, admin_runtime):
    extra = admin_runtime.data_dir / "torrc.extra"
    await ui.goto("/torrc")
    await ui.page.fill("#torrc", "MaxCircuitDirtiness 900\n")
    await ui.submit("#torrc-apply", "POST /torrc (valid)")
    assert "Tor configuration applied" in await ui.flash()
    assert extra.read_text().strip() == "MaxCircuitDirtiness 900"
    assert stat.S_IMODE(extra.stat().st_mode) == 0o600

    # The editor's allowlist: a listener on every interface is refused, with the reason.
    await ui.page.fill("#torrc", "MaxCircuitDirtiness 900\nSocksPort 0.0.0.0:9050\n")
    await ui.submit("#torrc-apply", "POST /torrc (refused)")
    error = await ui.text("#torrc-error")
    assert "line 2: SocksPort is refused: it opens a listening socket" in error
    assert extra.read_text().strip() == "MaxCircuitDirtiness 900"

    await ui.page.fill("#torrc", "NoSuchTorOption 1\n# " + XSS + "\n")
    await ui.submit("#torrc-apply", "POST /torrc (invalid)")
    error = await ui.text("#torrc-error")
    assert "previous configuration is still in force" in error and "NoSuchTorOption" in error
    assert "NoSuchTorOption" in await ui.page.input_value("#torrc")  # the user's text, to fix
    await screenshot(ui.page, "admin-torrc-rejected")
    assert extra.read_text().strip() == "MaxCircuitDirtiness 900"
    await ui.goto("/torrc")
    assert (await ui.page.input_value("#torrc")).strip() == "MaxCircuitDirtiness 900"
    await ui.goto("/status")
    assert await ui.text("#tor-running") == "yes"


async def test_choose_apps(ui):
    await ui.goto("/apps")
    await screenshot(ui.page, "admin-apps")
    await ui.page.uncheck("input[name=app][value=hello]")
    await ui.submit("#apps-save", "POST /apps")
    assert "Running: static-site." in await ui.flash()
    await ui.goto("/status")
    assert await ui.text("tr[data-app='hello'] [data-field=running]") == "no"
    await ui.goto("/apps")
    await ui.page.check("input[name=app][value=hello]")
    await ui.submit("#apps-save", "POST /apps")
    assert "Running: static-site, hello." in await ui.flash()
    await ui.goto("/status")
    await ui.page.wait_for_selector("tr[data-app='hello'] [data-field=running]:text('yes')",
                                    timeout=30_000)


async def test_forged_app_name_refused_and_never_executed(ui):
    await ui.goto("/apps")
    # A tampered form: the checkbox now sends a script as the app's name.
    await ui.page.eval_on_selector("input[name=app][value=hello]",
                                   "(el, xss) => { el.value = xss; el.checked = true; }", XSS)
    await ui.submit("#apps-save", "POST /apps (forged)")
    flash = await ui.flash()
    assert "Apps not changed: unknown app" in flash and "<script>" in flash  # shown as text
    await ui.goto("/status")
    assert await ui.text("tr[data-app='hello'] [data-field=running]") == "yes"


async def test_change_password(ui, admin_runtime):
    new = '"><img src=x onerror=alert(1)><script>window.__xss=1</script>'
    await ui.goto("/password")
    await ui.page.fill("#current", admin_runtime.password)
    await ui.page.fill("#new", new)
    await ui.page.fill("#confirm", new)
    await ui.submit("form[action='/password'] button", "POST /password")
    assert "Password changed" in await ui.flash()
    admin_runtime.password = new
    hashed = admin_runtime.data_dir / "admin" / "password"
    assert stat.S_IMODE(hashed.stat().st_mode) == 0o600 and new not in hashed.read_text()
    await ui.submit("text=Log out", "POST /logout")
    await ui.login(admin_runtime.first_boot_password)
    assert "Wrong password" in await ui.flash()
    await ui.login(new)
    assert await ui.page.is_visible("text=Log out")


async def test_every_essential_action_works_without_javascript(browser, admin_runtime):
    ui = await AdminUI.open(browser, admin_runtime, js=False)
    try:
        await ui.login(admin_runtime.password)
        await ui.goto("/status")
        await ui.submit("#service-stop", "POST /service/stop")
        assert await ui.text("#service-state") == "stopped"
        await ui.submit("#service-start", "POST /service/start")
        assert await ui.text("#service-state") == "running"
        await ui.goto("/torrc")
        await ui.page.fill("#torrc", "MaxCircuitDirtiness 600\n")
        await ui.submit("#torrc-apply", "POST /torrc (valid)")
        assert "Tor configuration applied" in await ui.flash()
        await screenshot(ui.page, "admin-nojs-torrc")
    finally:
        await ui.close()


ADMIN_PATHS = ["/login", "/status", "/api/status", "/torrc", "/password", "/apps",
               "/bootstrap", "/static/admin.js", "/static/admin.css", "/first-boot/x"]


async def test_admin_paths_through_the_onion_get_the_app_or_404(admin_runtime):
    onion = admin_runtime.onions["static-site"]
    for path in ADMIN_PATHS:
        status, raw = await aget_via_tor(admin_runtime.socks, f"http://{onion}{path}")
        body = raw.decode("utf-8", "replace")
        assert status in (200, 404), (path, status)
        assert "APAF admin" not in body and 'name="csrf"' not in body, path
        assert "data-live" not in body and "service_running" not in body, path

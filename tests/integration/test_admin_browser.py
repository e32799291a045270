"""The admin UI in Debian's chromium against the real runtime on the private Tor network.

One `apaf run examples/static-site hello --testnet` per module; the tests below run
in order on one logged-in browser context, as a user would: first-boot password,
bootstrap and status, stop/start, reachability, torrc edits, apps, password change.
Screenshots go to test-artifacts/admin-*.png; page load times are printed at the end
and written to test-artifacts/admin-page-loads.txt.
"""
from __future__ import annotations

import asyncio
import re
import stat
import statistics

import pytest

from fixtures.admin_runtime import XSS, AdminUI
from fixtures.browser import ARTIFACTS, screenshot
from fixtures.runtime import aget_via_tor

pytestmark = pytest.mark.slow
ONION_WAIT_MS = 120_000


@pytest.fixture(scope="module")
def ui(browser, admin_runtime):
    context = browser.new_context()
    ui = AdminUI(context, admin_runtime)
    yield ui
    context.close()
    _report_load_times(admin_runtime.load_times)


def _report_load_times(times: dict[str, list[float]]) -> None:
    lines = [f"{'page':<22} {'n':>3} {'median ms':>10} {'max ms':>8}"]
    for label, values in sorted(times.items()):
        lines.append(f"{label:<22} {len(values):>3} {statistics.median(values):>10.1f} "
                     f"{max(values):>8.1f}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "admin-page-loads.txt").write_text("\n".join(lines) + "\n")
    print("\nadmin UI page load times (navigation start to load event):\n" + "\n".join(lines))


def test_first_boot_link_shows_the_terminal_password_once(browser, admin_runtime):
    context = browser.new_context()
    try:
        one = AdminUI(context, admin_runtime)
        one.page.goto(admin_runtime.first_boot_url)
        assert one.page.inner_text("#first-boot-password") == admin_runtime.first_boot_password
        screenshot(one.page, "admin-first-boot")
        again = one.page.goto(admin_runtime.first_boot_url)
        assert again.status == 404
        assert admin_runtime.first_boot_password not in one.page.content()
    finally:
        context.close()


def test_log_in_with_first_boot_password(ui, admin_runtime):
    ui.goto("/status")
    assert ui.page.url.endswith("/login")  # no session: sent to the login page
    ui.login("wrong password")
    assert "Wrong password" in ui.flash()
    ui.login(admin_runtime.password)
    assert re.search(r"/(bootstrap|status)$", ui.page.url)
    assert ui.page.is_visible("text=Log out")


def test_bootstrap_page_shows_progress_and_splash(ui):
    ui.goto("/bootstrap")
    assert int(ui.page.get_attribute("#bootstrap-progress", "value")) >= 0
    ui.page.wait_for_selector("#bootstrap-done:not([hidden])", timeout=ONION_WAIT_MS)
    assert ui.page.inner_text("#bootstrap-percent") == "100"
    width = ui.page.eval_on_selector("img.splash", "img => img.complete && img.naturalWidth")
    assert width == 1
    screenshot(ui.page, "admin-bootstrap")


def test_status_shows_tor_and_the_onion_addresses(ui, admin_runtime):
    ui.goto("/status")
    assert re.match(r"\d+\.\d+\.\d+", ui.page.inner_text("#tor-version"))
    assert ui.page.inner_text("#service-state") == "running"
    for name, onion in admin_runtime.onions.items():
        row = ui.page.locator(f"tr[data-app='{name}']")
        assert row.locator("[data-field=onion]").inner_text() == onion
    # The page script polls the status: "published" turns to yes without a reload.
    ui.page.wait_for_selector("tr[data-app='static-site'] [data-field=published]:text('yes')",
                              timeout=ONION_WAIT_MS)
    screenshot(ui.page, "admin-status")


def test_stop_and_start_the_onion_service(ui):
    ui.goto("/status")
    ui.submit("#service-stop", "POST /service/stop")
    assert "Onion service stopped." in ui.flash()
    assert ui.page.inner_text("#service-state") == "stopped"
    assert ui.page.inner_text("tr[data-app='static-site'] [data-field=published]") == "no"
    screenshot(ui.page, "admin-service-stopped")
    ui.submit("#service-start", "POST /service/start")
    assert "Onion service started." in ui.flash()
    assert ui.page.inner_text("#service-state") == "running"
    ui.page.wait_for_selector("tr[data-app='static-site'] [data-field=published]:text('yes')",
                              timeout=ONION_WAIT_MS)


def test_reachability_test_shows_result_and_time(ui):
    ui.goto("/status")
    ui.submit("tr[data-app='static-site'] .reachability-test", "POST /reachability",
              timeout=ONION_WAIT_MS)
    assert re.search(r"static-site: reachable through Tor in \d+\.\d s\.", ui.flash()), ui.flash()
    cell = ui.page.inner_text("tr[data-app='static-site'] [data-field=reachability]")
    assert cell.startswith("reachable in ")
    screenshot(ui.page, "admin-reachability")


def test_torrc_valid_edit_applies_invalid_edit_keeps_old(ui, admin_runtime):
    extra = admin_runtime.data_dir / "torrc.extra"
    ui.goto("/torrc")
    ui.page.fill("#torrc", "MaxCircuitDirtiness 900\n")
    ui.submit("#torrc-apply", "POST /torrc (valid)")
    assert "tor has reloaded it" in ui.flash()
    assert extra.read_text().strip() == "MaxCircuitDirtiness 900"
    assert stat.S_IMODE(extra.stat().st_mode) == 0o600

    ui.page.fill("#torrc", "NoSuchTorOption 1\n# " + XSS + "\n")
    ui.submit("#torrc-apply", "POST /torrc (invalid)")
    error = ui.page.inner_text("#torrc-error")
    assert "previous one is still in force" in error and "NoSuchTorOption" in error
    assert "NoSuchTorOption" in ui.page.input_value("#torrc")  # the user's text, to fix
    screenshot(ui.page, "admin-torrc-rejected")
    assert extra.read_text().strip() == "MaxCircuitDirtiness 900"
    ui.goto("/torrc")
    assert ui.page.input_value("#torrc").strip() == "MaxCircuitDirtiness 900"
    ui.goto("/status")
    assert ui.page.inner_text("#tor-running") == "yes"


def test_choose_apps(ui):
    ui.goto("/apps")
    screenshot(ui.page, "admin-apps")
    ui.page.uncheck("input[name=app][value=hello]")
    ui.submit("#apps-save", "POST /apps")
    assert "Running: static-site." in ui.flash()
    ui.goto("/status")
    assert ui.page.inner_text("tr[data-app='hello'] [data-field=running]") == "no"
    ui.goto("/apps")
    ui.page.check("input[name=app][value=hello]")
    ui.submit("#apps-save", "POST /apps")
    assert "Running: static-site, hello." in ui.flash()
    ui.goto("/status")
    ui.page.wait_for_selector("tr[data-app='hello'] [data-field=running]:text('yes')",
                              timeout=30_000)


def test_change_password(ui, admin_runtime):
    new = '"><img src=x onerror=alert(1)><script>window.__xss=1</script>'
    ui.goto("/password")
    ui.page.fill("#current", admin_runtime.password)
    ui.page.fill("#new", new)
    ui.page.fill("#confirm", new)
    ui.submit("form[action='/password'] button", "POST /password")
    assert "Password changed" in ui.flash()
    admin_runtime.password = new
    hashed = admin_runtime.data_dir / "admin" / "password"
    assert stat.S_IMODE(hashed.stat().st_mode) == 0o600 and new not in hashed.read_text()
    ui.submit("text=Log out", "POST /logout")
    ui.login(admin_runtime.first_boot_password)
    assert "Wrong password" in ui.flash()
    ui.login(new)
    assert ui.page.is_visible("text=Log out")


def test_every_essential_action_works_without_javascript(browser, admin_runtime):
    context = browser.new_context(java_script_enabled=False)
    try:
        ui = AdminUI(context, admin_runtime)
        ui.login(admin_runtime.password)
        ui.goto("/status")
        ui.submit("#service-stop", "POST /service/stop")
        assert ui.page.inner_text("#service-state") == "stopped"
        ui.submit("#service-start", "POST /service/start")
        assert ui.page.inner_text("#service-state") == "running"
        ui.goto("/torrc")
        ui.page.fill("#torrc", "MaxCircuitDirtiness 600\n")
        ui.submit("#torrc-apply", "POST /torrc (valid)")
        assert "tor has reloaded it" in ui.flash()
        screenshot(ui.page, "admin-nojs-torrc")
    finally:
        context.close()


ADMIN_PATHS = ["/login", "/status", "/api/status", "/torrc", "/password", "/apps",
               "/bootstrap", "/static/admin.js", "/static/admin.css", "/first-boot/x"]


def test_admin_paths_through_the_onion_get_the_app_or_404(admin_runtime):
    onion = admin_runtime.onions["static-site"]

    async def fetch_all():
        return [await aget_via_tor(admin_runtime.socks, f"http://{onion}{p}")
                for p in ADMIN_PATHS]

    for path, (status, raw) in zip(ADMIN_PATHS, asyncio.run(fetch_all())):
        body = raw.decode("utf-8", "replace")
        assert status in (200, 404), (path, status)
        assert "APAF admin" not in body and 'name="csrf"' not in body, path
        assert "data-live" not in body and "service_running" not in body, path

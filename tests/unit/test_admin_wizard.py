"""The first-run wizard (admin/views/wizard.py) on a RuntimeControl double: each step's
form, what it asks the runtime to do, the password shown once, and "done" persisted."""
from __future__ import annotations

import re
import stat

import aiohttp

from apaf.admin import serve
from apaf.admin.firstrun import FirstRun

from fixtures.admin_ui import RuntimeControlDouble


async def _start(admin) -> str:
    """Open the first-boot link as the launch link does; returns the page's CSRF token."""
    r = await admin.client.get(f"/first-boot/{admin.first_boot_token}", allow_redirects=False)
    assert (r.status, r.headers["Location"]) == (303, "/welcome")
    return await admin.csrf("/welcome/apps")


async def test_first_boot_link_logs_in_and_shows_the_password_once_beside_the_progress(admin):
    r = await admin.client.get(f"/first-boot/{admin.first_boot_token}")
    page = await r.text()
    assert r.url.path == "/welcome" and r.status == 200
    assert f'<code id="first-boot-password">{admin.first_boot_password}</code>' in page
    assert 'id="bootstrap-progress"' in page and 'data-copy="first-boot-password"' in page
    again = await (await admin.client.get("/welcome")).text()          # a reload
    assert admin.first_boot_password not in again and 'id="password-shown-before"' in again
    assert (await admin.client.get("/status")).status == 200            # logged in
    r = await admin.client.get(f"/first-boot/{admin.first_boot_token}")
    assert r.status == 404 and admin.first_boot_password not in await r.text()


async def test_continuing_needs_the_password_saved_box(admin):
    token = await _start(admin)
    r = await admin.post("/welcome", {}, csrf=token)
    assert (r.status, r.headers["Location"]) == (303, "/welcome")
    assert "Tick the box" in await (await admin.client.get("/welcome")).text()
    r = await admin.post("/welcome", {"saved": "yes"}, csrf=token)
    assert (r.status, r.headers["Location"]) == (303, "/welcome/apps")


async def test_apps_step_runs_exactly_the_ticked_apps(admin):
    token = await _start(admin)
    page = await (await admin.client.get("/welcome/apps")).text()
    assert re.search(r'value="site"\s+checked', page) and not re.search(r'value="chat"\s+checked', page)
    r = await admin.client.post("/welcome/apps", data=[("csrf", token), ("app", "chat")],
                                headers={"Origin": admin.origin}, allow_redirects=False)
    assert (r.status, r.headers["Location"]) == (303, "/welcome/tor2web")
    assert admin.control.calls == [("set_enabled_apps", ["chat"])]
    r = await admin.post("/welcome/apps", {"app": "nope"}, csrf=token)
    assert r.headers["Location"] == "/welcome/apps"
    assert "unknown app" in await (await admin.client.get("/welcome/apps")).text()


async def test_tor2web_step_applies_the_choice(admin):
    token = await _start(admin)
    page = await (await admin.client.get("/welcome/tor2web")).text()
    assert re.search(r'id="tor2web-refuse"\s+checked', page)          # refused by default
    r = await admin.post("/welcome/tor2web", {"tor2web": "maybe"}, csrf=token)
    assert r.headers["Location"] == "/welcome/tor2web" and admin.control.calls == []
    r = await admin.post("/welcome/tor2web", {"tor2web": "allow"}, csrf=token)
    assert (r.status, r.headers["Location"]) == (303, "/welcome/share")
    assert admin.control.calls == [("set_tor2web", True)]
    page = await (await admin.client.get("/welcome/tor2web")).text()
    assert re.search(r'id="tor2web-allow"\s+checked', page)


async def test_share_step_then_finish_is_persisted_and_never_shown_again(admin):
    token = await _start(admin)
    page = await (await admin.client.get("/welcome/share")).text()
    assert f"http://{'x' * 56}.onion/" in page and 'data-copy="onion-1"' in page
    assert 'id="setup-unfinished"' in await (await admin.client.get("/status")).text()
    r = await admin.post("/welcome/finish", csrf=token)
    assert (r.status, r.headers["Location"]) == (303, "/status")
    done = admin.data_dir / "admin" / "first-run-done"
    assert stat.S_IMODE(done.stat().st_mode) == 0o600
    assert stat.S_IMODE(done.parent.stat().st_mode) == 0o700
    status = await (await admin.client.get("/status")).text()
    assert "Setup finished" in status and 'id="setup-unfinished"' not in status
    for path in ["/welcome", "/welcome/apps", "/welcome/tor2web", "/welcome/share"]:
        r = await admin.client.get(path, allow_redirects=False)
        assert (r.status, r.headers["Location"]) == (303, "/status"), path


async def test_a_reset_password_after_the_wizard_is_only_shown(tmp_path):
    FirstRun(tmp_path).finish()
    server = await serve(RuntimeControlDouble(), tmp_path)      # no password yet: first boot
    try:
        host = server.url.split("//")[1].rstrip("/")   # *.localhost, as a browser names it
        path = server.first_boot_url.split(host, 1)[1]
        async with aiohttp.ClientSession() as s:
            async with s.get(server.listen_url.rstrip("/") + path, headers={"Host": host},
                             allow_redirects=False) as r:
                page = await r.text()
        assert r.status == 200 and f'<code id="first-boot-password">{server.first_boot_password}' in page
        assert "bootstrap-progress" not in page
    finally:
        await server.close()


async def test_an_unsaved_password_can_be_replaced_by_the_first_run_session_only(admin):
    token = await _start(admin)
    await admin.client.get("/welcome")                        # the one showing
    page = await (await admin.client.get("/welcome")).text()
    assert 'action="/welcome/password"' in page
    r = await admin.post("/welcome/password", {"new": "short", "confirm": "short"}, csrf=token)
    assert "Password not changed" in await (await admin.client.get("/welcome")).text()
    mine = "my own long password"
    r = await admin.post("/welcome/password", {"new": mine, "confirm": mine}, csrf=token)
    assert (r.status, r.headers["Location"]) == (303, "/welcome")
    admin.client.session.cookie_jar.clear()
    await admin.login(mine)                                   # the new one works ...
    r = await admin.post("/welcome/password", {"new": "another long one", "confirm": "another long one"},
                         csrf=await admin.csrf("/welcome/apps"))
    assert r.status == 403                                   # ... and a plain login may not do this
    assert 'action="/welcome/password"' not in await (await admin.client.get("/welcome")).text()


async def test_quit_asks_the_runtime_to_stop_after_a_login_and_a_valid_form(admin):
    token = await admin.login()
    assert 'action="/quit"' in await (await admin.client.get("/status")).text()
    r = await admin.post("/quit", csrf=token)
    assert r.status == 200 and 'id="stopped"' in await r.text()
    assert admin.control.calls == [("quit",)]

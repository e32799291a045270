"""Admin UI pages and actions against a RuntimeControl double: what each form does and shows."""
from __future__ import annotations

import struct
import zlib

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


async def test_index_goes_to_bootstrap_until_tor_is_ready(admin):
    await admin.login()
    admin.control.bootstrap = 40
    r = await admin.client.get("/", allow_redirects=False)
    assert r.headers["Location"] == "/bootstrap"
    page = await (await admin.client.get("/bootstrap")).text()
    assert 'value="40"' in page and "Loading" in page
    assert 'http-equiv="refresh"' in page  # no-JS fallback while bootstrapping
    admin.control.bootstrap = 100
    r = await admin.client.get("/", allow_redirects=False)
    assert r.headers["Location"] == "/status"


def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


async def test_splash_image_on_bootstrap_page(admin, tmp_path):
    await admin.login()
    assert (await admin.client.get("/splash")).status == 404
    assert "/splash" not in await (await admin.client.get("/bootstrap")).text()
    admin.control.splash = tmp_path / "splash.png"
    admin.control.splash.write_bytes(_png())
    assert 'src="/splash"' in await (await admin.client.get("/bootstrap")).text()
    r = await admin.client.get("/splash")
    assert r.status == 200 and r.content_type == "image/png"
    assert await r.read() == _png()


async def test_svg_splash_not_served(admin, tmp_path):
    await admin.login()
    admin.control.splash = tmp_path / "splash.svg"
    admin.control.splash.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    assert (await admin.client.get("/splash")).status == 404


async def test_status_page_and_json(admin):
    await admin.login()
    page = await (await admin.client.get("/status")).text()
    assert "x" * 56 + ".onion" in page and "My site" in page and "running" in page
    r = await admin.client.get("/api/status")
    assert r.status == 200 and (await r.json())["service_running"] is True


async def test_stop_and_start_service(admin):
    token = await admin.login()
    r = await admin.post("/service/stop", csrf=token)
    assert r.headers["Location"] == "/status"
    page = await (await admin.client.get("/status")).text()
    assert "Onion service stopped." in page and 'id="service-state">stopped' in page
    await admin.post("/service/start", csrf=token)
    page = await (await admin.client.get("/status")).text()
    assert "Onion service started." in page and 'id="service-state">running' in page
    assert admin.control.calls == [("stop_service",), ("start_service",)]


async def test_reachability_result_and_time_shown(admin):
    token = await admin.login()
    await admin.post("/reachability", {"app": "site"}, csrf=token)
    page = await (await admin.client.get("/status")).text()
    assert "site: reachable through Tor in 3.4 s." in page
    assert admin.control.calls == [("test_reachability", "site")]


async def test_reachability_of_unknown_app_refused(admin):
    token = await admin.login()
    await admin.post("/reachability", {"app": "nope"}, csrf=token)
    assert "Unknown app" in await (await admin.client.get("/status")).text()
    assert admin.control.calls == []


async def test_choose_apps(admin):
    token = await admin.login()
    r = await admin.post("/apps", {"app": "chat"}, csrf=token)
    assert r.status == 303
    page = await (await admin.client.get("/apps")).text()
    assert "Running: chat." in page
    assert 'value="chat" checked' in page and 'value="site" checked' not in page
    assert admin.control.calls == [("set_enabled_apps", ["chat"])]


async def test_choose_unknown_app_refused(admin):
    token = await admin.login()
    await admin.post("/apps", {"app": "evil"}, csrf=token)
    assert "Apps not changed: unknown app" in await (await admin.client.get("/apps")).text()
    assert admin.control.calls == []


async def test_torrc_valid_edit_applied(admin):
    token = await admin.login()
    r = await admin.post("/torrc", {"torrc": "Log notice stdout\r\nNumEntryGuards 2\r\n"},
                         csrf=token)
    assert r.status == 303
    assert admin.control.torrc == "Log notice stdout\nNumEntryGuards 2\n"
    page = await (await admin.client.get("/torrc")).text()
    assert "Tor configuration applied" in page and "NumEntryGuards 2" in page


async def test_torrc_invalid_edit_shows_error_and_keeps_old(admin):
    admin.control.torrc = "NumEntryGuards 2\n"
    token = await admin.login()
    r = await admin.post("/torrc", {"torrc": "%%% not an option"}, csrf=token)
    assert r.status == 400
    page = await r.text()
    assert "Not applied: the previous configuration is still in force" in page
    assert "%%% not an option" in page
    assert admin.control.torrc == "NumEntryGuards 2\n"
    assert "NumEntryGuards 2" in await (await admin.client.get("/torrc")).text()


async def test_torrc_page_says_saved_refused_lines_are_not_in_force(admin):
    admin.control.torrc = "UseBridges 0\nSocksPort 0.0.0.0:9050\n"
    await admin.login()
    page = await (await admin.client.get("/torrc")).text()
    assert "Not in force: tor runs without these saved lines" in page
    assert "line 2: SocksPort is refused: it opens a listening socket" in page
    admin.control.torrc = "UseBridges 0\n"
    assert "Not in force" not in await (await admin.client.get("/torrc")).text()


async def test_torrc_edit_while_tor_restarts_answers_400_not_500(admin):
    from apaf.errors import TorStartError

    async def restarting(text):
        raise TorStartError("tor is not running (restarting?); try again in a moment")

    admin.control.apply_torrc_extra = restarting
    token = await admin.login()
    r = await admin.post("/torrc", {"torrc": "UseBridges 0\n"}, csrf=token)
    assert r.status == 400 and "try again in a moment" in await r.text()


async def test_torrc_too_long_refused(admin):
    token = await admin.login()
    r = await admin.post("/torrc", {"torrc": "Log notice stdout\n" * 5000}, csrf=token)
    assert r.status == 400 and "Too long" in await r.text()
    assert admin.control.calls == []


async def test_output_escaped(admin):
    admin.control.apps[0]["title"] = XSS
    admin.control.torrc = "</textarea>" + XSS
    token = await admin.login()
    for path in ["/status", "/apps", "/torrc"]:
        page = await (await admin.client.get(path)).text()
        assert "<script>window" not in page and "<img src=x" not in page, path
    r = await admin.post("/torrc", {"torrc": "%" + XSS}, csrf=token)
    assert "<script>window" not in await r.text()

"""Admin UI security rules, checked through aiohttp's test client and a RuntimeControl double."""
from __future__ import annotations

import re

import pytest

from apaf.admin.routes import PROTECTED_GET, PROTECTED_POST

EXPECTED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize("path", PROTECTED_GET)
async def test_every_page_refused_without_session(admin, path):
    r = await admin.client.get(path, allow_redirects=False)
    assert r.status in (303, 401), (path, r.status)
    if r.status == 303:
        assert r.headers["Location"] == "/login"
    assert "Status" not in await r.text()


@pytest.mark.parametrize("path", PROTECTED_POST)
async def test_every_action_refused_without_session(admin, path):
    # Even with an anonymous session's valid CSRF token (from the login form).
    token = await admin.csrf("/login")
    r = await admin.post(path, {"app": "site", "torrc": "Log notice stdout"}, csrf=token)
    assert r.status == 403, (path, r.status)
    assert admin.control.calls == []


@pytest.mark.parametrize("path", PROTECTED_POST)
async def test_action_without_csrf_token_refused(admin, path):
    await admin.login()
    r = await admin.post(path, {"app": "site", "torrc": "Log notice stdout"})
    assert r.status == 403 and "CSRF" in await r.text()
    assert admin.control.calls == []


@pytest.mark.parametrize("path", PROTECTED_POST)
async def test_action_with_wrong_csrf_token_refused(admin, path):
    token = await admin.login()
    wrong = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = await admin.post(path, {"app": "site", "torrc": "Log notice stdout"}, csrf=wrong)
    assert r.status == 403
    assert admin.control.calls == []


async def test_action_with_right_csrf_token_works(admin):
    token = await admin.login()
    r = await admin.post("/service/stop", csrf=token)
    assert r.status == 303 and admin.control.calls == [("stop_service",)]


async def test_csrf_token_of_another_session_refused(admin, aiohttp_client):
    token = await admin.login()
    admin.client.session.cookie_jar.clear()
    await admin.login()
    r = await admin.post("/service/stop", csrf=token)  # token from the first session
    assert r.status == 403 and admin.control.calls == []


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:1", "attacker.test",
                                  "localhost.evil.example:{port}", ""])
async def test_foreign_host_refused(admin, host):
    r = await admin.client.get("/login", headers={"Host": host.format(port=admin.port)})
    assert r.status == 421
    assert "password" not in (await r.text()).lower()


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
                                  "admin.localhost:{port}"])
async def test_plain_loopback_names_refused(admin, host):
    # Cookies ignore ports: any name an app's port shares would carry the session there.
    r = await admin.client.get("/login", headers={"Host": host.format(port=admin.port)})
    assert r.status == 421 and "address apaf printed" in await r.text()
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("case", [str, str.upper])
async def test_secret_host_name_accepted(admin, case):
    r = await admin.client.get("/login", headers={"Host": case(f"{admin.host}:{admin.port}")})
    assert r.status == 200


@pytest.mark.parametrize("origin,fetch_site", [
    ("http://evil.example", None), ("http://evil.example", "same-origin"),
    ("null", None), ("null", "cross-site"), ("null", "same-site"), (None, None),
    (None, "cross-site"), ("http://127.0.0.1:1", None), ("https://127.0.0.1:{port}", None)])
async def test_foreign_or_missing_origin_refused(admin, origin, fetch_site):
    token = await admin.login()
    origin = origin.format(port=admin.port) if origin else origin
    headers = {"Sec-Fetch-Site": fetch_site} if fetch_site else {}
    r = await admin.post("/service/stop", csrf=token, origin=origin, headers=headers)
    assert r.status == 403 and "Origin" in await r.text()
    assert admin.control.calls == []


@pytest.mark.parametrize("origin", ["null", None])
async def test_null_origin_accepted_when_browser_says_same_origin(admin, origin):
    # What chromium sends for a form post from a page with Referrer-Policy: no-referrer.
    token = await admin.login()
    r = await admin.post("/service/stop", csrf=token, origin=origin,
                         headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status == 303 and admin.control.calls == [("stop_service",)]


async def test_foreign_origin_cannot_log_in(admin):
    token = await admin.csrf("/login")
    r = await admin.post("/login", {"password": admin.first_boot_password}, csrf=token,
                         origin="http://evil.example")
    assert r.status == 403
    r = await admin.client.get("/status", allow_redirects=False)
    assert r.status == 303


@pytest.mark.parametrize("path", ["/login", "/status", "/static/admin.css", "/nowhere"])
async def test_security_headers_on_every_response(admin, path):
    await admin.login()
    r = await admin.client.get(path, allow_redirects=False)
    for name, value in EXPECTED_HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp


async def test_security_headers_on_refusals(admin):
    r = await admin.client.get("/login", headers={"Host": "evil.example"})
    assert r.status == 421 and r.headers["X-Frame-Options"] == "DENY"


async def test_session_cookie_httponly_samesite_strict(admin):
    r = await admin.client.get("/login")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


async def test_pages_not_cached(admin):
    await admin.login()
    r = await admin.client.get("/status")
    assert r.headers["Cache-Control"] == "no-store"


async def test_no_third_party_resources_or_inline_code(admin):
    await admin.login()
    for path in ["/login", "/status", "/bootstrap", "/apps", "/torrc", "/password"]:
        html = await (await admin.client.get(path)).text()
        assert not re.search(r"(src|href|action)=\"(https?:)?//", html), path
        assert "<script>" not in html and "<style" not in html, path
        assert not re.search(r"\s(style|on[a-z]+)=", html), path


async def test_unknown_path_is_plain_404(admin):
    r = await admin.client.get("/wp-admin", allow_redirects=False)
    assert r.status == 404


async def test_refusal_is_a_page_with_a_way_back(admin):
    r = await admin.post("/service/stop", csrf="expired")  # e.g. a session from before a restart
    page = await r.text()
    assert r.status == 403 and r.content_type == "text/html"
    assert "CSRF token missing or wrong" in page and 'href="/login"' in page

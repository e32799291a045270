"""Login throttling: growing delays, no reset on success, and the owner's link past them."""
from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestServer, unused_port

from apaf.admin import create_app
from apaf.admin import throttle as th
from apaf.admin.keys import ORIGINS
from apaf.admin.throttle import LoginThrottle

from fixtures.admin_ui import AdminHarness, RuntimeControlDouble


def test_delay_starts_after_free_failures_and_doubles_to_a_cap():
    now = [0.0]
    t = LoginThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(th.FREE + 12):
        t.failed()
        waits.append(t.retry_after())
    assert waits[:th.FREE] == [0] * th.FREE
    assert waits[th.FREE:th.FREE + 3] == [2, 4, 8]
    assert max(waits) == th.CAP and waits[-1] == th.CAP


def test_failures_leak_away_with_time():
    now = [0.0]
    t = LoginThrottle(clock=lambda: now[0])
    for _ in range(th.FREE + 3):
        t.failed()
    assert t.retry_after() == 8
    now[0] = 3 * th.LEAK  # three failures forgotten: back to the free allowance
    assert t.retry_after() == 0 and t.delay() == 0


def test_sustained_guessing_gets_about_one_guess_per_leak_period():
    """An attacker trying whenever allowed for a simulated day (the design's rate bound)."""
    now = [0.0]
    t = LoginThrottle(clock=lambda: now[0])
    guesses = 0
    while now[0] < 24 * 3600:
        now[0] += max(t.retry_after(), 0.05)  # 0.05 s: one scrypt check
        if t.retry_after() == 0:
            t.failed()
            guesses += 1
    print(f"guesses in 24 h against the default throttle: {guesses}")
    assert guesses <= 24 * 3600 / th.LEAK + th.FREE + 20


def test_owner_link_announced_once_per_use():
    now, links = [0.0], []
    t = LoginThrottle(clock=lambda: now[0], announce=links.append)
    for _ in range(th.FREE):
        t.failed()
    assert links == []  # typos: no alarm
    for _ in range(5):
        t.failed()
    assert len(links) == 1  # the guesser cannot use it up, so no second one
    assert not t.owner_token_valid("guess")
    assert t.owner_token_valid(links[0]) and not t.owner_token_valid(links[0])
    t.failed()
    assert len(links) == 2 and links[1] != links[0]


def test_scale_from_env(monkeypatch):
    monkeypatch.setenv(th.SCALE_ENV, "0.01")
    assert th.scale_from_env() == 0.01
    for bad in ("0", "2", "fast"):
        monkeypatch.setenv(th.SCALE_ENV, bad)
        with pytest.raises(ValueError, match="unset it for normal use"):
            th.scale_from_env()


@pytest.fixture
async def announced_admin(aiohttp_client, tmp_path):
    """An admin app whose owner-link announcements land in a list (the terminal's stand-in).

    Yields (attacker harness, announced links, factory of another client: the owner).
    """
    links: list[str] = []
    port, control = unused_port(), RuntimeControlDouble()
    app = create_app(control, tmp_path, port=port, announce=links.append)
    server = TestServer(app, host="127.0.0.1", port=port)
    host = {"Host": f"{app[ORIGINS].name}:{port}"}
    attacker = AdminHarness(await aiohttp_client(server, headers=host), control, tmp_path)

    async def new_client():
        return await aiohttp_client(server, headers=host)
    return attacker, links, new_client


async def _guess_until_throttled(h: AdminHarness) -> None:
    token = await h.csrf("/login")
    for attempt in range(th.FREE + 1):
        r = await h.post("/login", {"password": f"wrong{attempt}"}, csrf=token)
        assert r.status == 403, attempt
    r = await h.post("/login", {"password": "wrong again"}, csrf=token)
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert "owner link" in await r.text()


async def test_throttled_login_does_not_check_even_the_right_password(announced_admin):
    attacker, _, _ = announced_admin
    await _guess_until_throttled(attacker)
    token = await attacker.csrf("/login")
    r = await attacker.post("/login", {"password": attacker.first_boot_password}, csrf=token)
    assert r.status == 429
    assert (await attacker.client.get("/status", allow_redirects=False)).status == 303


async def test_owner_link_gets_the_owner_in_and_does_not_reset_the_attacker(announced_admin):
    attacker, links, new_client = announced_admin
    await _guess_until_throttled(attacker)
    assert len(links) == 1 and re.fullmatch(
        rf"http://{re.escape(attacker.host)}:{attacker.port}/login/owner/\S+", links[0])
    owner = AdminHarness(await new_client(), attacker.control, attacker.data_dir)
    owner.first_boot_password = attacker.first_boot_password
    path = "/" + links[0].split("/", 3)[3]
    page = await owner.client.get(path)
    assert page.status == 200 and "Owner link accepted" in await page.text()
    assert (await owner.client.get(path)).status == 404  # one-time
    await owner.login()  # not throttled
    assert (await owner.client.get("/status", allow_redirects=False)).status == 200
    # The owner's success left the attacker's delay as it was.
    token = await attacker.csrf("/login")
    r = await attacker.post("/login", {"password": "still guessing"}, csrf=token)
    assert r.status == 429


async def test_owner_link_session_has_its_own_small_budget(announced_admin):
    attacker, links, _ = announced_admin
    await _guess_until_throttled(attacker)
    await attacker.client.get("/" + links[0].split("/", 3)[3])  # the link in the guesser's hands
    token = await attacker.csrf("/login")
    for attempt in range(th.SESSION_TRIES):
        r = await attacker.post("/login", {"password": f"exempt{attempt}"}, csrf=token)
        assert r.status == 403, attempt
    r = await attacker.post("/login", {"password": "one more"}, csrf=token)
    assert r.status == 429


async def test_logged_in_owner_can_change_password_while_a_guesser_is_throttled(
        announced_admin):
    attacker, _, new_client = announced_admin
    owner = AdminHarness(await new_client(), attacker.control, attacker.data_dir)
    owner.first_boot_password = attacker.first_boot_password
    token = await owner.login()
    await _guess_until_throttled(attacker)
    new = "a new and long password"
    r = await owner.post("/password", {"current": owner.first_boot_password, "new": new,
                                       "confirm": new}, csrf=token)
    assert r.status == 303 and r.headers["Location"] == "/status"

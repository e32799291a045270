"""Issue 12 against the real runtime (`apaf run --testnet`) in Debian's chromium.

Session isolation: once the owner is logged in, visiting every app's local port
(by every loopback name) delivers no admin credential to the app, replaying what
does arrive cannot act, and nothing an app can read (status file, process
arguments and environment, the data folder) holds the admin UI's secret name.

Throttling: a local process guessing passwords at full speed (knowing even the
secret name: the worst case) is slowed to a trickle, while the owner gets in
through the owner link printed in the terminal, and that success does not give
the guesser a fresh budget.  The runtime runs its delays at 1/100 speed
(``THROTTLE_SCALE``), so a few seconds here stand for minutes.
"""
from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from apaf.admin import throttle as th
from fixtures.admin_runtime import THROTTLE_SCALE, AdminUI
from fixtures.browser import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]


def _descendants(pid: int) -> list[int]:
    from fixtures.runtime import descendants  # here: fixtures.runtime must load as a plugin first
    return descendants(pid)


def _listening_ports(pid: int) -> set[tuple[str, int]]:
    """The (IPv4 address, port) pairs a process listens on (from /proc: no extra tool needed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
            address, port = cols[1].split(":")  # the address in host byte order, hex
            ports.add((socket.inet_ntoa(bytes.fromhex(address)[::-1]), int(port, 16)))
    return ports


def _app_ports(rt) -> dict[tuple[str, int], int]:
    """{(address, port): pid} of every app process of the runtime (tor excluded)."""
    tor = rt.apaf.tor_pid()
    ports = {}
    for pid in _descendants(rt.apaf.proc.pid):
        if pid != tor:
            ports.update({port: pid for port in _listening_ports(pid)})
    return ports


@pytest_asyncio.fixture(loop_scope="session")
async def owner(browser, admin_runtime):
    ui = await AdminUI.open(browser, admin_runtime)
    yield ui
    await ui.close()


def _admin_port(rt) -> int:
    return int(rt.admin_url.rstrip("/").rsplit(":", 1)[1])


async def test_no_admin_credential_reaches_an_app_port(owner, admin_runtime):
    rt = admin_runtime
    await owner.login(rt.password)
    assert await owner.page.is_visible("text=Log out")
    session = {c["name"]: c for c in await owner.context.cookies()}
    admin_cookie = session[f"apaf_admin_{_admin_port(rt)}"]
    secret_name = rt.admin_url.split("/")[2].split(":")[0]
    assert admin_cookie["domain"] == secret_name and admin_cookie["httpOnly"]

    ports = _app_ports(rt)
    assert len(set(ports.values())) >= 2, f"expected both apps' processes, found {ports}"
    sent: list[tuple[str, str]] = []

    async def on_request(request):
        sent.append((request.url, (await request.all_headers()).get("cookie", "")))
    owner.page.on("request", on_request)
    echoed = []
    for host, port in sorted(ports):
        response = await owner.page.goto(f"http://{host}:{port}/")
        body = await response.text()
        if body.startswith("hello from the hello app"):
            echoed.append(body.split("cookie: ", 1)[1])
    owner.page.remove_listener("request", on_request)
    await screenshot(owner.page, "admin-isolation-app-port")

    assert echoed, "the hello app (which echoes its cookies) was not among the visited ports"
    arrived = [cookie for _, cookie in sent] + echoed
    assert len(sent) >= len(ports)
    for cookie in arrived:
        assert admin_cookie["value"] not in cookie and "apaf_admin" not in cookie, cookie

    # Replaying whatever arrived, from a local process, with every Host it could try.
    admin_port = _admin_port(rt)
    async with aiohttp.ClientSession() as client:
        for cookie in set(arrived):
            for host in (f"127.0.0.1:{admin_port}", f"localhost:{admin_port}",
                         f"{secret_name}:{admin_port}"):
                headers = {"Host": host, "Origin": f"http://{host}", "Cookie": cookie}
                async with client.post(f"http://127.0.0.1:{admin_port}/service/stop",
                                       headers=headers, data={"csrf": "from-the-page"},
                                       allow_redirects=False) as r:
                    assert r.status in (403, 421), (host, r.status)
                async with client.get(f"http://127.0.0.1:{admin_port}/api/status",
                                      headers=headers, allow_redirects=False) as r:
                    assert r.status in (401, 421), (host, r.status)
    assert rt.apaf.status()["service_running"]
    # And the owner's own session still works.
    await owner.goto("/status")
    assert owner.page.url.endswith("/status")


async def test_nothing_an_app_can_read_holds_the_secret_name(admin_runtime):
    rt = admin_runtime
    label = rt.admin_url.split("/")[2].split(".")[0]  # admin-<26 characters>
    readable = {"status file": rt.apaf.status()}
    assert rt.apaf.status()["admin"] == f"http://127.0.0.1:{_admin_port(rt)}/"
    for pid in [rt.apaf.proc.pid, *_descendants(rt.apaf.proc.pid)]:
        for what in ("cmdline", "environ"):
            readable[f"/proc/{pid}/{what}"] = Path(f"/proc/{pid}/{what}").read_bytes()
    for path in rt.data_dir.rglob("*"):
        if path.is_file():
            readable[str(path)] = path.read_bytes()
    assert len(readable) > 5
    for where, content in readable.items():
        assert label not in str(content), f"the admin UI's secret name is in {where}"


async def test_plain_loopback_address_of_the_admin_port_shows_no_admin_ui(owner, admin_runtime):
    response = await owner.page.goto(f"http://127.0.0.1:{_admin_port(admin_runtime)}/login")
    assert response.status == 421
    assert await owner.page.locator("#password").count() == 0
    assert "address apaf printed" in await owner.page.content()


async def test_guessing_cannot_lock_the_owner_out(browser, admin_runtime):
    rt = admin_runtime
    admin_port = _admin_port(rt)
    secret_host = f"{rt.admin_url.split('/')[2]}"
    base = f"http://127.0.0.1:{admin_port}"
    headers = {"Host": secret_host, "Origin": f"http://{secret_host}"}
    checked = refused = 0

    async def guess(client, csrf, n) -> int:
        async with client.post(f"{base}/login", headers=headers, allow_redirects=False,
                               data={"csrf": csrf, "password": f"guess {n}"}) as r:
            return r.status

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as attacker:
        async with attacker.get(f"{base}/login", headers=headers) as r:
            csrf = (await r.text()).split('name="csrf" value="', 1)[1].split('"', 1)[0]
        # Guess as fast as the server answers for two leak periods (20 minutes at full
        # scale), ending just after a checked guess so that the delay is fresh.
        seconds = 2 * th.LEAK * THROTTLE_SCALE
        t0, n, status = time.monotonic(), 0, 0
        while time.monotonic() - t0 < seconds or status != 403:
            status = await guess(attacker, csrf, n)
            n += 1
            assert status in (403, 429), status
            checked += status == 403
            refused += status == 429
            await asyncio.sleep(0.01)  # a 2-core machine is shared: no busier than this
        # The owner, typing the right password, is delayed like everyone else...
        one = await AdminUI.open(browser, rt)
        try:
            await one.login(rt.password)
            assert await one.page.locator("#login-error").count() == 1
            assert "owner link" in await one.text("#login-error")
            # ...so uses the link the runtime printed in its terminal.
            line = rt.apaf.wait_line("admin owner link", timeout=5)
            link = line.rsplit(": ", 1)[1]
            assert link.startswith(rt.admin_url + "login/owner/")
            await one.page.goto(link)
            assert await one.page.is_visible("#owner-link-note")
            await one.page.fill("#password", rt.password)
            await one.submit("form[action='/login'] button", "POST /login (owner link)")
            assert await one.page.is_visible("text=Log out")
            await screenshot(one.page, "admin-owner-link-login")
        finally:
            await one.close()
        # The owner's success gave the guesser no fresh budget.  On a loaded machine the
        # owner's steps can outlast the running delay, so wait for the guess it lets
        # through: the next one is held back again, where an emptied bucket would check
        # FREE more in a row.
        deadline = time.monotonic() + 3 * th.CAP * THROTTLE_SCALE
        while (status := await guess(attacker, csrf, n)) == 429 and time.monotonic() < deadline:
            n += 1
            await asyncio.sleep(0.05)
        assert status == 403, "no guess was checked within three delays"
        assert await guess(attacker, csrf, n + 1) == 429
    print(f"\nguessing for {seconds:.0f} s at 1/{1 / THROTTLE_SCALE:.0f} speed "
          f"(= {seconds / THROTTLE_SCALE / 60:.0f} min): {checked} passwords checked, "
          f"{refused} attempts refused unchecked")
    # Free typos, then the doubling ramp: a dozen checks where 0.01 s apart would be 1,200+.
    assert checked <= th.FREE + 12, checked
    assert refused > 0

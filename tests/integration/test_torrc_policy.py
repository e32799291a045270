"""The torrc editor's policy and atomic apply, against a real runtime and tor on the private network.

One in-process `Runtime` for the module (what the admin UI's "Tor settings" page drives
through `apply_torrc_extra`).  Every refused edit must leave the saved torrc.extra, the
running configuration and the tor process (same pid) as they were; nothing may listen
off loopback, no file or directory may be touched, no file content may reach the
message.  ~30-40 s plus the private network.
"""
from __future__ import annotations

import asyncio
import os
import signal
import stat
import time
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer, unused_port

from apaf.admin import create_app
from apaf.admin.keys import ORIGINS
from apaf.errors import TorrcRejected
from apaf.runtime import Runtime
from apaf.tor import policy

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASELINE = "MaxCircuitDirtiness 900\nUseBridges 0\n"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rt(testnet, tmp_path_factory):
    from fixtures.runtime import ENVECHO  # here: fixtures are registered as plugins first

    runtime = Runtime([ENVECHO], tmp_path_factory.mktemp("torrc-policy") / "data",
                      join_lines=testnet.join_torrc_lines(), admin=False)
    await runtime.start()
    await runtime.apply_torrc_extra(BASELINE)
    yield runtime
    await runtime.stop()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def tor_answering(request):
    """Each test starts on a tor that answers: a test that failed while tor was restarting
    (e.g. after the kill test) must not fail the next one too."""
    if "rt" in request.fixturenames:
        rt = request.getfixturevalue("rt")
        deadline = asyncio.get_running_loop().time() + 120
        while not (rt.tor.running and rt.tor.controller is not None):
            assert asyncio.get_running_loop().time() < deadline, "tor did not come back in 120 s"
            await asyncio.sleep(0.1)
        await rt.tor.wait_bootstrapped(120)
    yield


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ui(rt, tmp_path_factory):
    """The admin UI's HTTP interface on that runtime, logged in (what the browser posts)."""
    from fixtures.admin_ui import AdminHarness

    port = unused_port()
    app = create_app(rt, tmp_path_factory.mktemp("torrc-policy-admin"), port=port)
    client = TestClient(TestServer(app, host="127.0.0.1", port=port),
                        headers={"Host": f"{app[ORIGINS].name}:{port}"})
    await client.start_server()
    harness = AdminHarness(client, rt, rt.layout.root)
    harness.token = await harness.login()
    yield harness
    await client.close()


class Snapshot:
    """What a refused edit must not change: saved text, tor's pid and running values."""

    NAMES = ("MaxCircuitDirtiness", "UseBridges", "DisableNetwork", "SocksPort", "ControlPort",
             "HiddenServiceOptions", "Log", "DataDirectory")

    @classmethod
    async def take(cls, rt: Runtime) -> "Snapshot":
        snap = cls()
        snap.saved = rt.layout.torrc_extra.read_bytes()
        snap.torrc_file = rt.tor.torrc_path.read_bytes()
        snap.pid = rt.tor.proc.pid
        snap.conf = await rt.tor.call(lambda c: {n: c.get_conf(n, multiple=True) for n in cls.NAMES})
        return snap

    async def assert_unchanged(self, rt: Runtime) -> None:
        after = await Snapshot.take(rt)
        assert rt.tor.running and after.pid == self.pid, "tor was restarted or is down"
        assert after.saved == self.saved, "the saved torrc.extra changed"
        assert after.torrc_file == self.torrc_file, "tor's torrc file changed"
        assert after.conf == self.conf, "the running configuration changed"


async def refused(rt: Runtime, text: str) -> str:
    """Apply `text`, expect a refusal, check nothing changed; the message."""
    before = await Snapshot.take(rt)
    with pytest.raises(TorrcRejected) as err:
        await rt.apply_torrc_extra(text)
    await before.assert_unchanged(rt)
    return str(err.value)


def tcp_listeners(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                continue
            addr_hex, port_hex = cols[1].split(":")
            raw = bytes.fromhex(addr_hex)
            if width == 8:
                addr = ".".join(str(b) for b in raw[::-1])
            else:  # four little-endian 32-bit words
                addr = bytes(b for i in range(0, 16, 4) for b in raw[i:i + 4][::-1]).hex()
            found.append((addr, int(port_hex, 16)))
    return found


def assert_loopback_only(pid: int) -> None:
    listeners = tcp_listeners(pid)
    assert listeners, "tor listens on nothing: the check itself is broken"
    ipv6_loopback = "0" * 31 + "1"
    off = [(a, p) for a, p in listeners if not (a.startswith("127.") or a == ipv6_loopback)]
    assert off == [], f"tor listens off loopback: {off}"


async def test_socks_and_control_ports_on_all_interfaces_refused(rt):
    for line, option in (("SocksPort 0.0.0.0:9050", "SocksPort"),
                         ("ControlPort 0.0.0.0:9051", "ControlPort"),
                         ("Socks 0.0.0.0:9052", "'Socks'"),  # tor's abbreviation of SocksPort
                         ("socksport 0.0.0.0:9053", "socksport")):
        message = await refused(rt, BASELINE + line + "\n")
        assert option in message and ("listening socket" in message or "abbreviation" in message)
        assert_loopback_only(rt.tor.proc.pid)
    socks = await rt.tor.call(lambda c: c.get_info("net/listeners/socks"))
    # tor's one SOCKS listener is the loopback port the runtime's relay (apps' port) uses
    assert socks == f'"127.0.0.1:{rt.tor.relay.backend}"'


async def test_second_onion_service_refused_and_nothing_created(rt, tmp_path):
    hs_dir = tmp_path / "hs"
    message = await refused(rt, f"HiddenServiceDir {hs_dir}\nHiddenServicePort 80 127.0.0.1:80\n")
    assert "line 1: HiddenServiceDir is refused" in message
    assert "line 2: HiddenServicePort is refused" in message and "onion service" in message
    assert not hs_dir.exists()


async def test_log_file_anywhere_refused(rt, tmp_path):
    log_file = tmp_path / "debug.log"
    message = await refused(rt, f"Log debug file {log_file}\n")
    assert "Log is refused" in message and "file or directory" in message
    assert not log_file.exists()


async def test_disable_network_refused_and_service_stays_reachable(rt):
    message = await refused(rt, "DisableNetwork 1\n")
    assert "DisableNetwork is refused" in message and "Stop on the status page" in message
    result = await rt.test_reachability("envecho")
    assert result["ok"], result


async def test_data_directory_refused_tor_keeps_running_dir_untouched(rt, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    os.chmod(elsewhere, 0o755)
    message = await refused(rt, f"DataDirectory {elsewhere}\n")
    assert "DataDirectory is refused" in message
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o755 and list(elsewhere.iterdir()) == []
    # The next (valid) edit works: tor was not left in a broken state.
    await rt.apply_torrc_extra("MaxCircuitDirtiness 901\nUseBridges 0\n")
    assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == "901"
    await rt.apply_torrc_extra(BASELINE)


async def test_include_never_echoes_file_content(rt, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-FIRST-LINE\n")
    for text in (f"%include {secret}\n", "%include /etc/passwd\n", f"  %include {secret}\n",
                 f"UseBridges 0\n%include {tmp_path}\n"):
        message = await refused(rt, text)
        assert "%include is refused" in message
        assert "SECRET-FIRST-LINE" not in message and "root:x:0:0" not in message, message
    admin_hash = rt.layout.root / "admin-password"
    if admin_hash.exists():
        assert admin_hash.read_text()[:20] not in await refused(rt, f"%include {admin_hash}\n")


async def test_allowed_edit_is_applied_read_back_and_saved(rt):
    text = ("# bridges for a censored network\n"
            "UseBridges 0\n"
            "Bridge 192.0.2.7:443 0123456789ABCDEF0123456789ABCDEF01234567\n"
            "bridge 192.0.2.8:443   # case and comments as tor reads them\n"
            "ConnectionPadding 1\nReducedConnectionPadding 1\n"
            "BandwidthRate 2 MB\nMaxCircuitDirtiness 10 minutes\nExitNodes {de},{nl}\n")
    await rt.apply_torrc_extra(text)
    assert rt.layout.torrc_extra.read_text() == text
    assert stat.S_IMODE(rt.layout.torrc_extra.stat().st_mode) == 0o600
    conf = await rt.tor.call(lambda c: {n: c.get_conf(n, multiple=True) for n in
                                        ("Bridge", "BandwidthRate", "MaxCircuitDirtiness",
                                         "ReducedConnectionPadding", "ExitNodes")})
    assert conf == {"Bridge": ["192.0.2.7:443 0123456789ABCDEF0123456789ABCDEF01234567",
                               "192.0.2.8:443"],
                    "BandwidthRate": [str(2 * 1024 * 1024)], "MaxCircuitDirtiness": ["600"],
                    "ReducedConnectionPadding": ["1"], "ExitNodes": ["{de},{nl}"]}
    assert "Bridge 192.0.2.7:443" in rt.tor.torrc_path.read_text()  # a restart keeps it
    # Removing a line resets the option: LOADCONF replaces the whole configuration.
    await rt.apply_torrc_extra(BASELINE)
    assert await rt.tor.call(lambda c: c.get_conf("Bridge", multiple=True)) == []
    assert await rt.tor.call(lambda c: c.get_conf("BandwidthRate")) == str(1024 ** 3)
    # Again: the read-back must see tor's new values, not an answer stem cached before.
    await rt.apply_torrc_extra(text)
    assert len(await rt.tor.call(lambda c: c.get_conf("Bridge", multiple=True))) == 2
    await rt.apply_torrc_extra(BASELINE)


async def test_tor_refusing_a_live_change_restores_everything(rt, tmp_path):
    """Past the policy (called on the Tor facade): tor takes DataDirectory in a file but
    not while running; the old configuration, process and torrc file stay."""
    before = await Snapshot.take(rt)
    with pytest.raises(TorrcRejected, match="changing DataDirectory is not allowed"):
        await rt.tor.apply(f"DataDirectory {tmp_path}\n", lambda c: None)
    await before.assert_unchanged(rt)
    assert rt.tor.extra == BASELINE


async def test_failed_read_back_restores_previous_running_config(rt):
    before = await Snapshot.take(rt)
    with pytest.raises(TorrcRejected, match="not as written"):
        await rt.tor.apply("MaxCircuitDirtiness 777\n", lambda c: "not as written")
    await before.assert_unchanged(rt)  # 777 was live for a moment; 900 is back


async def test_tor_dying_during_apply_is_restarted_on_the_previous_config(rt):
    """tor crashes between LOADCONF and the read-back (as it did on a DataDirectory reload):
    the edit is refused and tor runs again, from the unchanged torrc file."""
    import signal

    torrc_before, pid = rt.tor.torrc_path.read_bytes(), rt.tor.proc.pid

    def crash(ctl):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        # A raw GETCONF always goes to tor: stem's get_conf may answer from the cache its
        # CONF_CHANGED listener filled from LOADCONF's event, and never touch the dead socket.
        return ctl.msg("GETCONF MaxCircuitDirtiness") and None

    with pytest.raises(TorrcRejected, match="tor stopped answering"):
        await rt.tor.apply("MaxCircuitDirtiness 4321\nUseBridges 0\n", crash)
    assert rt.tor.running and rt.tor.proc.pid != pid
    assert rt.tor.torrc_path.read_bytes() == torrc_before and rt.tor.extra == BASELINE
    assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == "900"
    assert_loopback_only(rt.tor.proc.pid)
    await rt.onions.wait_published("envecho", 90)  # the service is back too


async def _apply_with_hook(rt: Runtime, text: str, hook) -> None:
    """`rt.apply_torrc_extra(text)`, with `hook(controller)` run after tor's LOADCONF and
    before the runtime's own read-back (the confirm callback it hands `tor.apply`)."""
    tor, apply = rt.tor, rt.tor.apply

    async def hooked(extra, confirm, **kw):
        await apply(extra, lambda ctl: hook(ctl) or confirm(ctl), **kw)

    tor.apply = hooked
    try:
        await rt.apply_torrc_extra(text)
    finally:
        tor.apply = apply


def _plant(ctl, values: dict[str, str]) -> None:
    """Put `values` in stem's GETCONF cache, as its CONF_CHANGED listener does (a test cannot
    time that event), and check stem's get_conf now answers them without asking tor."""
    ctl._set_cache({k.lower(): [v] for k, v in values.items()}, "getconf")
    assert ctl.get_conf_map(list(values), multiple=False) == values


async def test_the_runtimes_read_back_asks_tor_never_stems_cache(rt):
    # Alive: the cache holds a value tor never had (UseBridges 1; the edit keeps tor's 0, so no
    # CONF_CHANGED event can overwrite it meanwhile); the read-back must see tor's own 0.
    await _apply_with_hook(rt, "MaxCircuitDirtiness 4321\nUseBridges 0\n",
                           lambda ctl: _plant(ctl, {"UseBridges": "1"}))
    assert rt.layout.torrc_extra.read_text() == "MaxCircuitDirtiness 4321\nUseBridges 0\n"
    assert await rt.tor.call(lambda c: str(c.msg("GETCONF MaxCircuitDirtiness"))) == \
        "MaxCircuitDirtiness=4321"
    await rt.apply_torrc_extra(BASELINE)
    # Dead right after LOADCONF, with the edit's values in the cache: a cached answer would
    # confirm the edit and save it; tor's silence must refuse it and keep the previous config.
    saved, torrc_before, pid = (rt.layout.torrc_extra.read_bytes(), rt.tor.torrc_path.read_bytes(),
                                rt.tor.proc.pid)

    def die(ctl):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        until = time.monotonic() + 10
        while ctl.is_alive() and time.monotonic() < until:  # stem's close() empties the cache
            time.sleep(0.02)
        _plant(ctl, {"MaxCircuitDirtiness": "4322", "UseBridges": "0"})

    with pytest.raises(TorrcRejected, match="tor stopped answering"):
        await _apply_with_hook(rt, "MaxCircuitDirtiness 4322\nUseBridges 0\n", die)
    assert rt.layout.torrc_extra.read_bytes() == saved and rt.tor.extra == BASELINE
    assert rt.tor.torrc_path.read_bytes() == torrc_before
    assert rt.tor.running and rt.tor.proc.pid != pid
    assert await rt.tor.call(lambda c: str(c.msg("GETCONF MaxCircuitDirtiness"))) == \
        "MaxCircuitDirtiness=900"
    await rt.onions.wait_published("envecho", 90)


def _wait_gone(pid: int, seconds: float = 10) -> None:
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return  # a zombie holds no sockets
        except FileNotFoundError:
            return
        time.sleep(0.05)


async def test_concurrent_edits_do_not_interleave(rt):
    """10 edits at once (7 valid, 3 refused): each runs verify, apply, save as one block."""
    events: list[tuple[str, str]] = []
    tor = rt.tor
    verify, apply = tor.verify, tor.apply

    async def traced_verify(extra):
        events.append(("verify", extra))
        await verify(extra)

    async def traced_apply(extra, confirm, **kw):
        events.append(("apply", extra))
        await asyncio.sleep(0.05)  # widen the window another edit could slip into
        await apply(extra, confirm, **kw)
        events.append(("applied", extra))

    texts = [f"MaxCircuitDirtiness {1000 + i}\nUseBridges 0\n" if i % 3 else
             f"MaxCircuitDirtiness {1000 + i}\nSocksPort 0.0.0.0:{9100 + i}\n" for i in range(1, 11)]
    tor.verify, tor.apply = traced_verify, traced_apply
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(rt.apply_torrc_extra(t) for t in texts), return_exceptions=True), 120)
    finally:
        tor.verify, tor.apply = verify, apply
    refused_texts = [t for t, r in zip(texts, results) if isinstance(r, TorrcRejected)]
    assert refused_texts == [t for t in texts if "SocksPort" in t]
    assert [r for r in results if r is not None and not isinstance(r, TorrcRejected)] == []
    # Valid edits: verify, apply, applied of the same text back to back, never mixed.
    assert len(events) == 3 * (len(texts) - len(refused_texts))
    for i in range(0, len(events), 3):
        block = events[i:i + 3]
        assert [k for k, _ in block] == ["verify", "apply", "applied"], events
        assert len({t for _, t in block}) == 1, events
    last = events[-1][1]
    assert rt.layout.torrc_extra.read_text() == last
    assert await tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == last.split()[1]
    assert_loopback_only(tor.proc.pid)
    await rt.apply_torrc_extra(BASELINE)


async def test_ui_include_passwd_page_shows_no_file_content(rt, ui):
    before = await Snapshot.take(rt)
    r = await ui.post("/torrc", {"torrc": "%include /etc/passwd\n"}, csrf=ui.token)
    page = await r.text()
    for line in Path("/etc/passwd").read_text().splitlines():
        assert line.strip() == "" or line not in page, f"a line of /etc/passwd is in the page: {line}"
    assert r.status == 400 and "%include is refused" in page
    await before.assert_unchanged(rt)


async def test_ui_data_directory_answers_400_and_next_edit_works(rt, ui, tmp_path):
    before = await Snapshot.take(rt)
    r = await ui.post("/torrc", {"torrc": f"DataDirectory {tmp_path}\n"}, csrf=ui.token)
    assert r.status == 400 and "DataDirectory is refused" in await r.text()
    await before.assert_unchanged(rt)
    r = await ui.post("/torrc", {"torrc": "MaxCircuitDirtiness 905\r\n"}, csrf=ui.token)
    assert r.status == 303
    assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == "905"
    assert rt.tor.proc.pid == before.pid
    await rt.apply_torrc_extra(BASELINE)


async def test_ui_ten_concurrent_posts_end_consistent(rt, ui):
    pid = rt.tor.proc.pid
    texts = [f"MaxCircuitDirtiness {2000 + i}\n" if i % 4 else f"ControlPort 0.0.0.0:{9200 + i}\n"
             for i in range(10)]
    responses = await asyncio.wait_for(asyncio.gather(
        *(ui.post("/torrc", {"torrc": t}, csrf=ui.token) for t in texts)), 120)
    statuses = [r.status for r in responses]
    assert statuses == [400 if "ControlPort" in t else 303 for t in texts]
    saved = rt.layout.torrc_extra.read_text()
    assert saved in texts and "ControlPort" not in saved
    assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == saved.split()[1]
    assert rt.tor.proc.pid == pid
    assert_loopback_only(pid)
    await rt.apply_torrc_extra(BASELINE)


async def test_saved_refused_lines_are_not_used_at_start_and_not_lost(testnet, tmp_path):
    """A torrc.extra an older runtime saved (or a hand edit) with a refused line: tor starts
    without it, listening on loopback only, and the file is kept for the user to fix."""
    from fixtures.runtime import ENVECHO

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    saved = "UseBridges 0\nSocksPort 0.0.0.0:9060\n"
    (data / "torrc.extra").write_text(saved)
    runtime = Runtime([ENVECHO], data, join_lines=testnet.join_torrc_lines(), admin=False)
    await runtime.start()
    try:
        assert runtime.tor.running
        assert_loopback_only(runtime.tor.proc.pid)
        assert "0.0.0.0" not in runtime.tor.torrc_path.read_text()
        assert (data / "torrc.extra").read_text() == saved
    finally:
        await runtime.stop()


async def test_every_allowed_option_example_is_applied_and_read_back(rt, tmp_path):
    """The allowlist's examples on the real tor: one proxy type at a time (tor refuses two).

    The group with ClientTransportPlugin's example restarts tor without its own sandbox
    (tor cannot start a transport program under it), the next group with it again."""
    program = tmp_path / "lyrebird"  # never started: UseBridges stays 0
    program.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(program, 0o755)
    os.chmod(tmp_path, 0o755)
    groups: dict[str, list[str]] = {"HTTPSProxy": [], "Socks5Proxy": [], "Socks4Proxy": []}
    for rule in policy.rules().values():
        example = rule.example.replace("/usr/bin/lyrebird", str(program))
        key = rule.name[:11] if rule.name.startswith(("Socks5Proxy", "Socks4Proxy")) else "HTTPSProxy"
        groups[key].append(f"{rule.name} {example}\n")
    pid = rt.tor.proc.pid
    try:
        for lines in groups.values():
            text = "".join(lines)
            await rt.apply_torrc_extra(text)  # raises if tor reports a value other than written
            assert rt.layout.torrc_extra.read_text() == text
    finally:
        await rt.apply_torrc_extra(BASELINE)
    assert sum(map(len, groups.values())) == len(policy.rules())
    assert (rt.tor.proc.pid == pid) is not rt.tor.sandbox_supported
    assert rt.tor.running and rt.tor.sandbox_status()["on"] is bool(rt.tor.sandbox_supported)

"""The runtime's tor runs with its own `Sandbox 1` (issue 14), on the private network.

One in-process `Runtime` with the envecho app and the tor the dev tree finds (Debian's
/usr/sbin/tor, or $APAF_TOR: the farm's static tor).  What a user would check: tor holds a
seccomp filter of its own (the kernel says so in /proc, tor says Sandbox=1), the status
says so, the app is reachable over Tor; the torrc editor still applies an edit live, and a
pluggable transport (which tor cannot start under its sandbox) restarts tor without it and
the service comes back.  ~15-25 s plus the private network.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio

from apaf.runtime import Runtime
from apaf.tor import sandbox

pytestmark = [pytest.mark.asyncio(loop_scope="session"),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tor's Sandbox is Linux-only")]


def seccomp(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k]) for k in ("Seccomp", "Seccomp_filters")}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rt(testnet, tmp_path_factory):
    from fixtures.runtime import ENVECHO

    runtime = Runtime([ENVECHO], tmp_path_factory.mktemp("tor-sandbox") / "data",
                      join_lines=testnet.join_torrc_lines(), admin=False)
    await runtime.start()
    if not runtime.tor.sandbox_supported:
        await runtime.stop()
        pytest.fail(f"{runtime.tor.binary} cannot run with Sandbox 1 ({runtime.tor.sandbox_unsupported_why}): "
                    "the tor the runtime uses here (Debian's, or the farm's static one) should")
    yield runtime
    await runtime.stop()


async def test_tor_runs_under_its_own_filter_and_the_app_is_reachable(rt):
    pid = rt.tor.proc.pid
    assert await rt.tor.call(lambda c: c.get_conf("Sandbox")) == "1"
    theirs, ours = seccomp(pid), seccomp(os.getpid())
    assert theirs["Seccomp"] == 2 and theirs["Seccomp_filters"] > ours["Seccomp_filters"], theirs
    result = await rt.test_reachability("envecho")
    assert result["ok"], result
    # `apaf status [--json]` (the status file) tells the owner.
    def apaf_status(*flags: str) -> str:
        return subprocess.run([sys.executable, "-m", "apaf.cli", "status", *flags, "--data-dir",
                               str(rt.layout.root)], capture_output=True, text=True, check=True).stdout
    assert json.loads(apaf_status("--json"))["tor"]["sandbox"] == {"on": True, "why_off": None}
    assert ", sandbox on\n" in apaf_status()
    # The probe's answer is kept for this binary: the next start does not run tor twice.
    assert list(json.loads((rt.tor.data_dir / "sandbox-support.json").read_text()).values()) == [[True, ""]]



@pytest.mark.skipif(os.geteuid() != 0, reason="a root runtime's tor")
async def test_a_root_runtimes_tor_holds_no_capability(rt):
    """Root, tor stays uid 0 but without any capability (apaf.sandbox.linux.tor_child_setup);
    it bootstrapped and published all the same (the test above reaches the app through it)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{rt.tor.proc.pid}/status").read_text().splitlines())
    assert fields["Uid"].split()[0] == "0"
    caps = {k: int(fields[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    assert set(caps.values()) == {0}, caps
    assert rt.tor.bootstrap == 100

async def test_torrc_editor_applies_live_under_the_sandbox(rt):
    pid = rt.tor.proc.pid
    assert await rt.apply_torrc_extra("MaxCircuitDirtiness 700\nExitNodes {de}\n") is None
    assert rt.tor.proc.pid == pid and sandbox.active(pid)
    assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == "700"
    assert rt.layout.torrc_extra.read_text() == "MaxCircuitDirtiness 700\nExitNodes {de}\n"
    await rt.apply_torrc_extra("")


async def test_a_pluggable_transport_restarts_tor_without_the_sandbox_and_back(rt, tmp_path):
    program = tmp_path / "lyrebird"  # never started: UseBridges stays 0
    program.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(program, 0o755)
    os.chmod(tmp_path, 0o755)
    before = rt.tor.proc.pid
    text = f"ClientTransportPlugin obfs4 exec {program}\nUseBridges 0\n"
    note = await rt.apply_torrc_extra(text)
    assert note and "restarted without its own sandbox" in note and "pluggable transport" in note
    assert rt.tor.proc.pid != before and not sandbox.active(rt.tor.proc.pid)
    assert await rt.tor.call(lambda c: c.get_conf("Sandbox")) == "0"
    assert rt.status_dict()["tor"]["sandbox"] == {"on": False, "why_off": sandbox.TRANSPORTS}
    assert rt.layout.torrc_extra.read_text() == text
    result = await rt.test_reachability("envecho")  # services re-published on the new tor
    assert result["ok"], result

    again = rt.tor.proc.pid
    note = await rt.apply_torrc_extra("UseBridges 0\n")
    assert note == "tor was restarted with its own sandbox on again."
    assert rt.tor.proc.pid != again and await rt.tor.call(lambda c: c.get_conf("Sandbox")) == "1"
    result = await rt.test_reachability("envecho")
    assert result["ok"], result
    assert rt.status_dict()["tor"]["sandbox"]["on"] is True


async def test_a_refused_switch_restarts_tor_on_the_previous_configuration(rt, tmp_path):
    """The restart path's rollback: the read-back fails, so tor is started again, sandboxed,
    from the previous text, and the service is added again."""
    from apaf.errors import TorrcRejected

    program = tmp_path / "lyrebird"
    program.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(program, 0o755)
    os.chmod(tmp_path, 0o755)
    await rt.apply_torrc_extra("UseBridges 0\n")
    torrc_before, pid = rt.tor.torrc_path.read_text(), rt.tor.proc.pid
    with pytest.raises(TorrcRejected, match="not as written"):
        await rt.tor.apply(f"ClientTransportPlugin obfs4 exec {program}\n", lambda c: "not as written",
                           restarted=rt._republish)
    assert rt.tor.running and rt.tor.proc.pid != pid and rt.tor.extra == "UseBridges 0\n"
    assert rt.tor.torrc_path.read_text() == torrc_before and "Sandbox 1" in torrc_before
    assert await rt.tor.call(lambda c: c.get_conf("Sandbox")) == "1" and sandbox.active(rt.tor.proc.pid)
    await rt.onions.wait_published("envecho", 90)

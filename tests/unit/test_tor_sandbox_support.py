"""tor's own Sandbox: when the runtime asks for it, and how it finds out whether a tor can.

Stand-in tor programs (shell scripts) answer the probe the ways real ones do; the real tor is
probed in tests/integration/test_tor_sandbox.py.  < 1 s.
"""
import json
import os
import sys

import pytest

from apaf.tor import sandbox, torrc

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the probe asks /proc")


def fake_tor(tmp_path, *lines: str, name="tor"):
    """A program that prints `lines` like tor's log, counts its runs, then waits to be killed."""
    path = tmp_path / name
    echo = "".join(f"echo '{line}'\n" for line in lines)
    path.write_text(f"#!/bin/sh\necho run >> {tmp_path / (name + '.runs')}\n{echo}exec sleep 30\n")
    path.chmod(0o755)
    return path


def runs(tmp_path, name="tor") -> int:
    try:
        return len((tmp_path / f"{name}.runs").read_text().split())
    except FileNotFoundError:
        return 0


def test_sandbox_line_only_when_asked(tmp_path):
    assert "Sandbox 1" not in torrc.render(tmp_path).splitlines()
    lines = torrc.render(tmp_path, sandbox=True, extra="UseBridges 0\n").splitlines()
    assert "Sandbox 1" in lines and lines.index("Sandbox 1") < lines.index("UseBridges 0")


@pytest.mark.parametrize("extra, expected", [
    ("", False),
    ("UseBridges 1\nBridge obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567\n", False),
    ("ClientTransportPlugin obfs4 exec /usr/bin/lyrebird\n", True),
    ("clienttransportplugin snowflake,webtunnel EXEC /usr/bin/snowflake-client -log-to-state-dir\n", True),
    ("# ClientTransportPlugin obfs4 exec /usr/bin/lyrebird\n", False),
    ("ClientTransportPlugin obfs4 socks5 127.0.0.1:1080\n", False),
])
def test_managed_transports_are_what_turns_the_sandbox_off(extra, expected):
    assert sandbox.runs_programs(extra) is expected


async def test_a_tor_without_seccomp_is_found_out_once_and_remembered(tmp_path):
    tor = fake_tor(tmp_path, "[notice] Tor 0.4.9.11 running on Linux",
                   "[warn] This version of Tor was built without support for sandboxing.",
                   "[notice] Bootstrapped 0% (starting): Starting")
    cache = tmp_path / "sandbox-support.json"
    assert await sandbox.supported(tor, cache) == (False, sandbox.NOT_BUILT)
    assert await sandbox.supported(tor, cache) == (False, sandbox.NOT_BUILT)
    assert runs(tmp_path) == 1, "the answer for this binary was not cached"
    assert oct(cache.stat().st_mode & 0o777) == "0o600" and len(json.loads(cache.read_text())) == 1


async def test_a_tor_that_runs_without_a_filter_of_its_own_is_not_trusted(tmp_path):
    tor = fake_tor(tmp_path, "[notice] Bootstrapped 0% (starting): Starting")
    on, why = await sandbox.supported(tor, tmp_path / "cache.json")
    assert not on and "no seccomp filter of its own" in why


async def test_a_tor_dying_with_sandbox_names_the_exit_and_its_words(tmp_path):
    tor = tmp_path / "tor"
    tor.write_text("#!/bin/sh\necho '[err] Failed to create syscall sandbox filter'\nexit 1\n")
    tor.chmod(0o755)
    on, why = await sandbox.supported(tor, tmp_path / "cache.json")
    assert not on and "tor exited (code " in why and "Failed to create syscall sandbox filter" in why


async def test_another_binary_is_probed_again(tmp_path):
    cache = tmp_path / "cache.json"
    one = fake_tor(tmp_path, "[notice] Bootstrapped 0% (starting): Starting", name="one")
    two = fake_tor(tmp_path, "[notice] Bootstrapped 0% (starting): Starting", "# other bytes", name="two")
    await sandbox.supported(one, cache)
    await sandbox.supported(two, cache)
    assert (runs(tmp_path, "one"), runs(tmp_path, "two")) == (1, 1)
    assert len(json.loads(cache.read_text())) == 2


def test_active_compares_with_our_own_filters():
    assert sandbox.active(os.getpid()) is False  # our own filters are not tor's
    assert sandbox.active(None) is False
    assert sandbox.active(2 ** 22 + 7) is False  # no such process


@pytest.mark.parametrize("tor, ours, expected", [
    ((2, 3), (2, 2), True),       # a container's filter on both, one more on tor
    ((2, 2), (2, 2), False),      # only the inherited one
    ((2, None), (0, None), True),  # Linux < 5.9: no count; a filter where we have none
    ((2, None), (2, None), False),  # ... and under an inherited one it cannot be told: no
    ((None, None), (0, 0), False),  # tor is gone
])
def test_active_on_every_kernel(monkeypatch, tor, ours, expected):
    monkeypatch.setattr(sandbox, "_seccomp", lambda pid: ours if pid == "self" else tor)
    assert sandbox.active(1234) is expected

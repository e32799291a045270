"""`invoke testnet.up/status/down` run a network in the background that other processes can use."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import apaf.testnet
from apaf.testnet.process import pid_alive

ROOT = Path(__file__).resolve().parents[3]
INVOKE = [sys.executable, "-m", "invoke"]


def invoke(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*INVOKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=240)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_up_status_down(tmp_path):
    workdir = tmp_path / "net"
    up = invoke("testnet.up", "--dir", str(workdir), "--relays", "2")
    try:
        status = json.loads(invoke("testnet.status", "--dir", str(workdir), "--json").stdout)
        # The daemons outlive the `invoke` process that started them.
        assert status["bootstrapped"] is True
        assert status["socks"].startswith("127.0.0.1:") and status["socks"] in up.stdout
        assert "TestingTorNetwork 1" in status["torrc"]
        assert all(line in up.stdout for line in status["torrc"])
        assert [n["role"] for n in status["nodes"]].count("relay") == 2
        assert all(n["running"] for n in status["nodes"])
        info = apaf.testnet.load(workdir)
        assert info.socks == status["socks"] and info.bootstrapped()
        again = invoke("testnet.up", "--dir", str(workdir), check=False)
        assert again.returncode != 0 and "already running" in again.stderr
    finally:
        invoke("testnet.down", "--dir", str(workdir))
    pids = [n["pid"] for n in status["nodes"]]
    assert not any(pid_alive(pid) for pid in pids)
    gone = invoke("testnet.status", "--dir", str(workdir), "--json", check=False)
    assert gone.returncode != 0 and "testnet.up" in gone.stderr


def test_tor_exits_when_its_owner_is_killed(tmp_path):
    """No orphans: a node started in-process dies with that process, even on SIGKILL."""
    code = """
import pathlib, sys, time
from apaf.testnet import TorNode, free_ports
from apaf.testnet.torrc import common
from apaf.tor.binary import find_tor
datadir = pathlib.Path(sys.argv[1]) / "solo"
port = free_ports(1)[0]
node = TorNode("solo", datadir, str(find_tor()), port, [*common(datadir, port), "DisableNetwork 1", "SocksPort 0"])
node.start()
print(node.pid, flush=True)
time.sleep(600)
"""
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        tor_pid = int(proc.stdout.readline())
        assert pid_alive(tor_pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while pid_alive(tor_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(tor_pid), "tor outlived the process that started it"
    finally:
        proc.kill()
        proc.wait()

"""No leaks (issue 3, item 10): inside a network namespace that has only loopback, the app
library and `apaf run` send host names only to tor's SOCKS port: no DNS query reaches the
namespace's resolver and no connection goes anywhere but the SOCKS port."""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("noleak_probe.py")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="needs root and iproute2 (`ip netns`) to make a network namespace",
)


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


@pytest.fixture
def loopback_netns():
    """A fresh namespace with only `lo` (up) whose resolv.conf points at 127.0.0.53."""
    name = f"apaf-noleak-{os.getpid()}"
    etc = Path("/etc/netns") / name
    ip("netns", "add", name)
    try:
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.53\noptions timeout:1 attempts:1\n")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        # Whatever the probe left behind (it stops its tors itself) dies with the namespace.
        for pid in ip("netns", "pids", name, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        ip("netns", "del", name, check=False)
        shutil.rmtree(etc, ignore_errors=True)


def test_names_go_only_to_the_socks_port(loopback_netns, tmp_path):
    done = subprocess.run(
        ["ip", "netns", "exec", loopback_netns, sys.executable, str(PROBE), str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["interfaces"] == ["lo"]
    # Every API got the page, by name through an exit and from the onion service.
    app = report["app"]
    assert "error" not in app, app.get("error")
    assert app["bodies"] == {
        "http_session": report["body"], "open_connection": report["body"], "connect": report["body"],
        "http_session_onion": report["onion_body"],
    }
    # The app process connected only to the SOCKS port and looked up no name itself.
    socks_host, socks_port = report["socks"].rsplit(":", 1)
    connects = [target for kind, target in app["events"] if kind == "connect"]
    assert connects and all(target == [socks_host, int(socks_port)] for target in connects), connects
    lookups = [target for kind, target in app["events"] if kind != "connect"]
    for target in lookups:
        ipaddress.ip_address(target)  # only the SOCKS port's own IP literal, never a name

    # The app running under `apaf run` fetched by name through the runtime's tor.
    assert report["runtime"]["status"] == 200
    assert json.loads(report["runtime"]["answer"])["session"] == report["body"]

    # The names reached DNS only at the exit relays, never the namespace's resolver.
    # (tor's resolver randomises the case of the letters it asks for: compare lowercased.)
    assert report["local_dns"] == []
    exit_names = [name.lower() for name in report["exit_dns"]]
    assert report["app_name"] in exit_names and report["runtime_name"] in exit_names

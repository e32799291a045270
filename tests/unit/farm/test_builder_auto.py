"""`--builder auto`: every configured builder is a candidate; each target goes to one whose checks pass.

Real executors and their real checks: the local builder (this machine has the
linux-x86_64 packages), a Docker engine address with nothing behind it, and an SSH
inventory whose hosts refuse connections on loopback.
"""
from __future__ import annotations

import socket

import pytest

from builders.errors import ConfigError
from builders.recipes import load_target
from builders.spread import assign, configured_builders


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]          # closed once the socket is: connections are refused


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    key = tmp_path / "key"
    key.write_text("not a key\n")
    key.chmod(0o600)
    port = _closed_port()
    (tmp_path / "builders.toml").write_text(
        f'[builders.gone]\nhost = "127.0.0.1"\nport = {port}\nkey = "key"\nconnect_timeout = 3\nretries = 0\n'
        f'[builders.mac]\nhost = "127.0.0.1"\nport = {port}\nkey = "key"\nos = "macos"\nconnect_timeout = 3\n'
        f'retries = 0\n')
    monkeypatch.setenv("APAF_BUILDERS", str(tmp_path / "builders.toml"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    return tmp_path


def test_auto_means_local_docker_and_the_whole_inventory(inventory):
    assert configured_builders() == ["local", "docker", "ssh:gone", "ssh:mac"]


def test_auto_gives_each_linux_target_a_builder_that_passes_its_checks(inventory):
    target = load_target("linux-x86_64")
    chosen = assign([target], ["auto"])
    assert chosen["linux-x86_64"].name == "local"


def test_auto_says_why_each_builder_cannot_take_a_target(inventory):
    with pytest.raises(ConfigError) as err:
        assign([load_target("macos-arm64")], ["auto"])
    text = str(err.value)
    assert "no builder can build macos-arm64" in text
    for builder in ("local", "docker", "ssh:gone", "ssh:mac"):
        assert f"{builder}:" in text, text


def test_auto_passes_over_builders_that_fail_their_checks_to_one_that_does(inventory):
    # The second target tries the least-loaded builders first (docker, the SSH hosts): none can
    # take it here, so it shares local with the first.
    chosen = assign([load_target("linux-x86_64"), load_target("linux-tools")], ["auto"])
    assert {t: e.name for t, e in chosen.items()} == {"linux-x86_64": "local", "linux-tools": "local"}

"""apaf.testnet without daemons: state-file errors name the fix; exits reach loopback only."""
from __future__ import annotations

import ipaddress

import pytest

import apaf.testnet
from apaf.testnet import torrc


def test_load_without_a_directory_says_how_to_start_one(monkeypatch, tmp_path):
    monkeypatch.delenv("APAF_TESTNET_DIR", raising=False)
    with pytest.raises(apaf.testnet.TestnetError, match="APAF_TESTNET_DIR is not set.*testnet.up"):
        apaf.testnet.load()
    with pytest.raises(apaf.testnet.TestnetError, match=r"testnet.json not found.*invoke testnet.up --dir"):
        apaf.testnet.load(tmp_path)
    (tmp_path / "testnet.json").write_text('{"socks": 1}')
    with pytest.raises(apaf.testnet.TestnetError, match="not a testnet state file.*testnet.down"):
        apaf.testnet.load(tmp_path)


def test_a_network_needs_relays():
    with pytest.raises(apaf.testnet.TestnetError, match="at least 1 authority and 1 relay"):
        apaf.testnet.TestNetwork("/nonexistent", relays=0)


def test_exit_policy_accepts_loopback_and_rejects_every_other_address():
    lines = torrc.relay("r", 1)
    policy = [rule.strip() for line in lines if line.startswith("ExitPolicy ") for rule in line[11:].split(",")]
    assert policy[0] == "accept 127.0.0.0/8:*" and policy[-1] == "accept *:*"
    rejected = [ipaddress.ip_network(rule.split()[1].rsplit(":", 1)[0]) for rule in policy[1:-1]]
    assert all(rule.startswith("reject ") for rule in policy[1:-1])
    loopback = ipaddress.ip_network("127.0.0.0/8")
    assert sum(n.num_addresses for n in rejected) + loopback.num_addresses == 2**32
    assert not any(n.overlaps(loopback) for n in rejected)
    assert "IPv6Exit 0" in lines  # and so no IPv6 exit at all


def test_join_lines_name_every_authority():
    auths = [torrc.Authority(f"a{i}", 1000 + i, 2000 + i, "A" * 40, "B" * 40) for i in range(3)]
    lines = torrc.join_lines(auths)
    assert lines[0] == "TestingTorNetwork 1"
    assert [line.split()[1] for line in lines if line.startswith("DirAuthority ")] == ["a0", "a1", "a2"]

"""The private Tor network works end to end: onion services, joining, loopback exits, relay loss."""
from __future__ import annotations

import json

from fixtures.runtime import get_via_tor
from fixtures.testnet import serve_body, start_onion_site

import apaf.testnet


def test_onion_service_answers_through_the_client(testnet, onion_site):
    assert onion_site.onion.endswith(".onion") and len(onion_site.onion) == 62
    assert get_via_tor(testnet.socks, onion_site.url) == (200, onion_site.body)


def test_join_lines_let_another_tor_use_the_network(testnet, onion_site):
    port = apaf.testnet.free_ports(1)[0]
    tor = testnet.launch_tor("joiner", [f"SocksPort 127.0.0.1:{port}"])
    try:
        assert "TestingTorNetwork 1" in testnet.join_torrc_lines()
        assert sum(line.startswith("DirAuthority ") for line in testnet.join_torrc_lines()) == 3
        assert get_via_tor(f"127.0.0.1:{port}", onion_site.url) == (200, onion_site.body)
    finally:
        tor.stop()
    assert not tor.alive()


def test_every_tor_of_the_network_gets_a_2_s_floor_for_its_circuit_build_timeout(testnet):
    """Learned on loopback it would be ~55 ms and kept across restarts: a restarted onion
    service abandoned most circuits of a busy moment, its rendezvous ones too."""
    consensus = (testnet.client.datadir / "cached-consensus").read_text()
    params = next(line.split()[1:] for line in consensus.splitlines() if line.startswith("params "))
    assert "cbtmintimeout=2000" in params


def test_relays_exit_to_loopback(testnet):
    server = serve_body(b"loopback through an exit\n")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert get_via_tor(testnet.socks, url) == (200, b"loopback through an exit\n")
    finally:
        server.shutdown()
        server.server_close()


def test_state_file_describes_the_running_network(testnet):
    info = apaf.testnet.load(testnet.workdir)
    assert info.socks == testnet.socks
    assert info.join_torrc_lines() == testnet.join_torrc_lines()
    assert info.bootstrapped()
    roles = [n.role for n in info.nodes]
    assert roles.count("authority") == 3 and roles.count("relay") == 4 and roles.count("client") == 1
    assert len(info.running()) == len(info.nodes)
    json.loads((testnet.workdir / apaf.testnet.STATE_FILE).read_text())


def test_onion_service_survives_a_dead_relay_and_the_relay_comes_back(testnet):
    site = start_onion_site(testnet, "onion-relay-loss")
    try:
        testnet.kill_relay(0)
        assert not testnet.relays[0].alive()
        assert get_via_tor(testnet.socks, site.url, timeout=120) == (200, site.body)
        testnet.restart_relay(0)
        assert testnet.relays[0].alive()
        assert apaf.testnet.load(testnet.workdir).nodes[3].pid == testnet.relays[0].pid
        assert get_via_tor(testnet.socks, site.url) == (200, site.body)
    finally:
        site.stop()

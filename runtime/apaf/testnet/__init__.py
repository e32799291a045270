"""A private Tor network on 127.0.0.1 for tests and app developers: no internet needed.

Start one in-process (tests, benchmarks)::

    from apaf.testnet import TestNetwork
    net = TestNetwork("/tmp/net", authorities=3, relays=3).start()   # ~10-25 s cold
    net.socks                  # "127.0.0.1:PORT": the network's client SOCKS port
    net.join_torrc_lines()     # ["TestingTorNetwork 1", "DirAuthority ...", ...]
    net.kill_relay(0); net.restart_relay(0)
    node = net.launch_tor("onion-host", ["SocksPort 127.0.0.1:9999"])  # another joined tor
    with node.controller() as ctl: ...   # stem, authenticated (cookie)
    net.stop()                 # also runs at interpreter exit; the daemons also exit by
                               # themselves if this process dies, even by SIGKILL

or in the background, for other processes (`apaf run --testnet`, a developer's shell)::

    invoke testnet.up --dir D          # daemonised tors; prints SOCKS address and how to join
    invoke testnet.status --dir D --json
    export APAF_TESTNET_DIR=D
    invoke testnet.down --dir D

and join it from any process with the state file `D/testnet.json`::

    info = apaf.testnet.load()          # or load(D); default: $APAF_TESTNET_DIR
    info.socks                          # "127.0.0.1:PORT"
    info.join_torrc_lines()             # put these in the torrc of the tor you launch
    info.bootstrapped()                 # asks the network's client over its control port

What a joining tor must know:
- The join lines contain `TestingTorNetwork 1`, which can only be set at launch (not by
  SETCONF); add them to the generated torrc or the `config` of `stem.process.launch_tor`.
- Once bootstrapped, an onion service made with ADD_ONION needs a few seconds to upload
  its descriptor: wait for the HS_DESC UPLOADED event (stem's
  `create_ephemeral_hidden_service(..., await_publication=True)`) or retry the first GET.
- Every relay is an exit to 127.0.0.0/8 only: a client can also reach loopback servers
  (`http://127.0.0.1:PORT/` through the SOCKS port), and nothing else. Names are resolved
  by the exits (their resolv.conf, or `relay_torrc=["ServerDNSResolvConfFile F"]`). The
  join lines include `UseMicrodescriptors 0`: microdescriptor policy summaries would
  hide a loopback-only exit, so clients use full descriptors.
- The network needs 3 authorities + 1 relay at the very least for onion services; with a
  single relay one dead relay breaks them for minutes (the authorities keep voting it
  Running), so keep >= 2 relays alive when a test kills one.

Layout of D: one data directory per node (`auth0`, `relay0`, `client`, ...) with its
`torrc` and `notice.log`; `testnet.json` (pids, ports, roles, join lines).

Errors: everything here raises `TestnetError` (an `apaf.errors.TorError`) with a message
that says what to do; the tor log tail is included when a daemon fails.
"""
from __future__ import annotations

from pathlib import Path

from apaf.testnet.errors import TestnetError
from apaf.testnet.network import TestNetwork
from apaf.testnet.process import TorNode, free_ports, kill_pid
from apaf.testnet.state import ENV_VAR, STATE_FILE, NodeInfo, TestnetInfo, load

__all__ = [
    "ENV_VAR", "STATE_FILE", "NodeInfo", "TestNetwork", "TestnetError", "TestnetInfo",
    "TorNode", "free_ports", "load", "stop",
]


def stop(workdir=None) -> TestnetInfo:
    """Stop every daemon of the network whose state file is in `workdir`; return its info."""
    info = load(workdir)
    for node in reversed(info.nodes):
        kill_pid(node.pid)
    Path(info.workdir, STATE_FILE).unlink(missing_ok=True)
    return info

"""`TestNetwork`: start, watch and stop a private Tor network on 127.0.0.1."""
from __future__ import annotations

import atexit
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stem import SocketError

from apaf.testnet import torrc
from apaf.tor.binary import find_tor
from apaf.testnet.errors import TestnetError
from apaf.testnet.keys import authority_v3ident, relay_fingerprint
from apaf.testnet.process import TorNode, free_ports
from apaf.testnet.state import NodeInfo, TestnetInfo, save


class TestNetwork:
    """A private Tor network: `authorities` directory authorities, `relays` exit relays
    (to 127.0.0.0/8 only) and one client with a SOCKS port, all on 127.0.0.1 under `workdir`.

    With `detach=False` (default) every tor exits when this Python process ends, even on
    SIGKILL (each is owned through a control connection, TAKEOWNERSHIP), and `stop()` also
    runs at interpreter exit. With `detach=True` the daemons outlive it (for `invoke
    testnet.up`); stop them with `apaf.testnet.stop(workdir)`. `relay_torrc` adds lines to
    every relay's torrc (e.g. `ServerDNSResolvConfFile` for the exits' name lookups).
    """

    __test__ = False

    def __init__(self, workdir, tor_binary=None, authorities=3, relays=3, *, detach=False, relay_torrc=()):
        if authorities < 1 or relays < 1:
            raise TestnetError("a network needs at least 1 authority and 1 relay (3 + 2 or more for onion services)")
        self.workdir = Path(workdir).resolve()
        self.tor_binary = str(find_tor(tor_binary))
        self.n_authorities = authorities
        self.n_relays = relays
        self.detach = detach
        self.relay_torrc = list(relay_torrc)
        self.authorities: list[TorNode] = []
        self.relays: list[TorNode] = []
        self.client: TorNode | None = None
        self.launched: list[TorNode] = []  # launch_tor()'s nodes, stopped by stop() too
        self._join: list[str] = []

    # -- what callers use -------------------------------------------------------------

    @property
    def socks(self) -> str:
        """"127.0.0.1:PORT" of the network's client SOCKS port."""
        if self.client is None:
            raise TestnetError("the network is not started: call start() first")
        return f"127.0.0.1:{self.client.ports['socks']}"

    def join_torrc_lines(self) -> list[str]:
        """Torrc lines another tor needs to be part of this network (set them at launch)."""
        if not self._join:
            raise TestnetError("the network is not started: call start() first")
        return list(self._join)

    def nodes(self) -> list[TorNode]:
        return [*self.authorities, *self.relays, *([self.client] if self.client else [])]

    def info(self) -> TestnetInfo:
        roles = [("authority", n) for n in self.authorities] + [("relay", n) for n in self.relays]
        if self.client:
            roles.append(("client", self.client))
        return TestnetInfo(
            workdir=str(self.workdir),
            socks=self.socks if self.client else "",
            torrc=list(self._join),
            nodes=[NodeInfo(n.name, role, n.pid, n.control_port, str(n.datadir), dict(n.ports)) for role, n in roles],
        )

    def start(self, timeout: float = 120.0) -> "TestNetwork":
        """Start every daemon and return once the client has bootstrapped (or raise)."""
        deadline = time.monotonic() + timeout
        if self.authorities:
            raise TestnetError("this TestNetwork was already started; make a new one to start again")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.detach:
            atexit.register(self.stop)
        try:
            self._plan()
            self._start_all(self.authorities)
            # Each authority uploads its own descriptor as it starts, when the others may
            # not listen yet, and retries only a minute later; a reload (SIGHUP) makes it
            # upload again now that every authority listens.
            for node in self.authorities:
                node.reload()
            self._start_all(self.relays)
            save(self.info())
            self._wait_consensus(deadline)
            # Relays started together with the authorities found no consensus at first and
            # backed off; a reload (SIGHUP) makes them fetch it now, not minutes later.
            for node in self.relays:
                node.reload()
            self.client.start(detach=self.detach)
            save(self.info())
            self.wait_bootstrapped(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def wait_bootstrapped(self, timeout: float = 60.0) -> None:
        """Wait until the client reports 100 % bootstrap; raise TestnetError after `timeout`."""
        deadline = time.monotonic() + timeout
        info = self.info()
        while time.monotonic() < deadline:
            if not self.client.alive():
                raise TestnetError(f"the testnet client exited:\n{self.client.tail()}")
            if info.bootstrapped():
                return
            time.sleep(0.2)
        raise TestnetError(
            f"testnet client not bootstrapped after {timeout:.0f} s "
            f"({info.bootstrap_percent()} %); logs in {self.client.datadir}:\n{self.client.tail()}"
        )

    def launch_tor(self, name: str, lines=(), timeout: float = 30.0) -> TorNode:
        """Start another tor joined to this network in `<workdir>/<name>` (owned by this
        process like the others; stop it with `node.stop()`). Its control port is
        `node.control_port`; give it `SocksPort 127.0.0.1:N` in `lines` if it needs one."""
        node = TorNode(name, self.workdir / name, self.tor_binary, free_ports(1)[0], [])
        node.lines = [*self.join_torrc_lines(), *torrc.common(node.datadir, node.control_port), *lines]
        if not any(line.split()[0] == "SocksPort" for line in node.lines):
            node.lines.append("SocksPort 0")
        node.start(detach=False, timeout=timeout)
        self.launched.append(node)
        return node

    def kill_relay(self, index: int, sig: int | None = None) -> None:
        """Kill relay `index` (SIGKILL by default) and wait until it is gone."""
        # SIGKILL looked up here, not as the default: Windows has none, and `import apaf.testnet` must work there
        self.relays[index].stop(signal.SIGKILL if sig is None else sig)

    def restart_relay(self, index: int, timeout: float = 60.0) -> None:
        """Start relay `index` again (same keys and ports) and wait until it has bootstrapped."""
        node = self.relays[index]
        node.stop()
        node.start(detach=self.detach)
        save(self.info())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with node.controller() as ctl:
                    if "PROGRESS=100" in ctl.get_info("status/bootstrap-phase"):
                        return
            except SocketError:
                pass
            time.sleep(0.2)
        raise TestnetError(f"relay {node.name} did not bootstrap again within {timeout:.0f} s:\n{node.tail()}")

    def stop(self) -> None:
        """Stop every daemon this object started (idempotent)."""
        for node in [*self.launched, *reversed(self.nodes())]:
            node.stop()
        atexit.unregister(self.stop)

    def __enter__(self) -> "TestNetwork":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------

    def _node(self, name: str, port_names: list[str]) -> TorNode:
        control, *others = free_ports(1 + len(port_names))
        datadir = self.workdir / name
        # A fresh network each start: old keys and cached consensuses name other ports.
        shutil.rmtree(datadir, ignore_errors=True)
        return TorNode(name, datadir, self.tor_binary, control, [], ports=dict(zip(port_names, others)))

    def _start_all(self, nodes: list[TorNode]) -> None:
        """Start `nodes` side by side (tor takes ~0.5 s to open its control port)."""
        for node in nodes:
            node.spawn(detach=self.detach)
        for node in nodes:
            node.ready(detach=self.detach)

    def _plan(self) -> None:
        """Pick ports, make the authorities' keys, and write the node definitions."""
        self.authorities = [self._node(f"auth{i}", ["or", "dir"]) for i in range(self.n_authorities)]

        def keys(node: TorNode) -> torrc.Authority:
            node.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
            return torrc.Authority(
                node.name, node.ports["or"], node.ports["dir"],
                authority_v3ident(self.tor_binary, node.datadir, node.ports["dir"]),
                relay_fingerprint(self.tor_binary, self.workdir, node.datadir, node.name),
            )

        # tor-gencert makes a 3072-bit RSA key (~2 s): make them side by side.
        with ThreadPoolExecutor(len(self.authorities)) as pool:
            auths = list(pool.map(keys, self.authorities))
        self._join = torrc.join_lines(auths)
        for node in self.authorities:
            node.lines = [
                *self._join, *torrc.common(node.datadir, node.control_port),
                *torrc.authority(node.name, node.ports["or"], node.ports["dir"]),
            ]
        for i in range(self.n_relays):
            node = self._node(f"relay{i}", ["or"])
            node.lines = [
                *self._join, *torrc.common(node.datadir, node.control_port),
                *torrc.relay(node.name, node.ports["or"]), *self.relay_torrc,
            ]
            self.relays.append(node)
        node = self._node("client", ["socks"])
        node.lines = [*self._join, *torrc.common(node.datadir, node.control_port), *torrc.client(node.ports["socks"])]
        self.client = node

    def _wait_consensus(self, deadline: float) -> None:
        """Wait until the first authority's consensus lists every authority and relay.

        A node whose descriptor missed the first votes (seen with tor 0.4.9: sometimes an
        authority publishes only a minute later) is reloaded, which makes it publish now.
        """
        nodes = [*self.authorities, *self.relays]
        listed: set[str] = set()
        hupped: dict[str, float] = {}
        while time.monotonic() < deadline:
            for node in nodes:
                if not node.alive():
                    raise TestnetError(f"tor node {node.name} exited:\n{node.tail()}")
            try:
                with self.authorities[0].controller() as ctl:
                    listed = {entry.nickname for entry in ctl.get_network_statuses()}
            except Exception:  # no consensus yet: stem raises on an empty answer
                listed = set()
            missing = [n for n in nodes if n.name not in listed]
            if not missing:
                return
            now = time.monotonic()
            for node in missing if listed else []:
                # Missing for more than a voting round since we first noticed: nudge it.
                if now - hupped.setdefault(node.name, now) > 6:
                    try:
                        node.reload()
                    except SocketError:
                        pass  # exiting: the alive() check above reports it next round
                    hupped[node.name] = now
            time.sleep(0.5)
        raise TestnetError(
            f"the consensus lists {len(listed)} of {len(nodes)} nodes before the deadline; "
            f"logs in {self.authorities[0].datadir}:\n{self.authorities[0].tail()}"
        )

"""The state file `<workdir>/testnet.json`: how other processes find and join a running network."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stem import SocketError
from stem.control import Controller

from apaf.fsutil import atomic_write
from apaf.testnet.errors import TestnetError
from apaf.testnet.process import pid_alive

STATE_FILE = "testnet.json"
ENV_VAR = "APAF_TESTNET_DIR"


@dataclass(frozen=True)
class NodeInfo:
    name: str
    role: str  # "authority", "relay" or "client"
    pid: int | None
    control_port: int
    datadir: str
    ports: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TestnetInfo:
    """A running (or stopped) network as seen from its state file.

    `socks` is "127.0.0.1:PORT" of the network's client; `torrc` the lines another tor
    needs to join; `nodes` every daemon with its pid, role and ports.
    """

    __test__ = False

    workdir: str
    socks: str
    torrc: list[str]
    nodes: list[NodeInfo]

    def join_torrc_lines(self) -> list[str]:
        return list(self.torrc)

    @property
    def socks_host(self) -> str:
        return self.socks.rsplit(":", 1)[0]

    @property
    def socks_port(self) -> int:
        return int(self.socks.rsplit(":", 1)[1])

    def client(self) -> NodeInfo:
        return next(n for n in self.nodes if n.role == "client")

    def running(self) -> list[NodeInfo]:
        return [n for n in self.nodes if pid_alive(n.pid)]

    def bootstrap_percent(self) -> int:
        """The client's bootstrap progress (0 when it does not answer)."""
        try:
            with Controller.from_port(address="127.0.0.1", port=self.client().control_port) as ctl:
                ctl.authenticate()
                phase = ctl.get_info("status/bootstrap-phase")
        except (SocketError, StopIteration, OSError):
            return 0
        for word in phase.split():
            if word.startswith("PROGRESS="):
                return int(word.split("=", 1)[1])
        return 0

    def bootstrapped(self) -> bool:
        return self.bootstrap_percent() == 100

    def to_json(self) -> dict:
        return asdict(self)


def save(info: TestnetInfo) -> None:
    atomic_write(Path(info.workdir) / STATE_FILE, json.dumps(info.to_json(), indent=2) + "\n", mode=0o644)


def load(workdir: str | os.PathLike | None = None) -> TestnetInfo:
    """Read the state file of the network in `workdir` (default: `$APAF_TESTNET_DIR`)."""
    if workdir is None:
        workdir = os.environ.get(ENV_VAR)
        if not workdir:
            raise TestnetError(
                f"{ENV_VAR} is not set: start a network with `invoke testnet.up --dir D` "
                f"and export {ENV_VAR}=D"
            )
    path = Path(workdir) / STATE_FILE
    try:
        data = json.loads(path.read_text())
        data["nodes"] = [NodeInfo(**n) for n in data["nodes"]]
        return TestnetInfo(**data)
    except FileNotFoundError:
        raise TestnetError(f"{path} not found: no private Tor network there; start one with `invoke testnet.up --dir {workdir}`") from None
    except (ValueError, TypeError, KeyError) as err:
        raise TestnetError(f"{path} is not a testnet state file ({err}); run `invoke testnet.down --dir {workdir}` and start again") from None

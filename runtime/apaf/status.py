"""What an app can learn about its runtime: its own onion address and Tor's state."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from apaf import appenv
from apaf.errors import ConfigError

onion_address = appenv.onion_address


@dataclass(frozen=True)
class TorStatus:
    """The runtime's tor as of the last status-file update (`bootstrap` is a percentage)."""

    running: bool
    bootstrap: int
    summary: str
    version: str
    socks: str

    @property
    def bootstrapped(self) -> bool:
        return self.running and self.bootstrap >= 100


def tor_status() -> TorStatus:
    """Read the "tor" part of APAF_STATUS_FILE (rewritten atomically by the runtime).

    Before the runtime has written the file, tor counts as not running (bootstrap 0).
    """
    path = Path(appenv.require(appenv.STATUS_FILE))
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return TorStatus(False, 0, f"{path} not written yet", "", "")
    except ValueError as err:
        raise ConfigError(f"{appenv.STATUS_FILE}={path}: not JSON ({err}); is it the runtime's status file?") from None
    tor = data.get("tor") if isinstance(data, dict) else None
    if not isinstance(tor, dict):
        raise ConfigError(f"{appenv.STATUS_FILE}={path}: no \"tor\" object; is it the runtime's status file?")
    return TorStatus(
        running=bool(tor.get("running")),
        bootstrap=int(tor.get("bootstrap") or 0),
        summary=str(tor.get("summary") or ""),
        version=str(tor.get("version") or ""),
        socks=str(tor.get("socks") or ""),
    )

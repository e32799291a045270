"""The platform functions of hosts where apps run as the user who started the runtime (macOS,
Windows): no uid to hand an app, no root to drop, no way (implemented) to tell who is on the
other end of a loopback connection. One copy, imported by those platform modules."""
from __future__ import annotations

from apaf.sandbox.policy import Policy


def app_identity(name: str, dirs) -> dict[str, str]:
    """Apps run as the user who started the runtime here: nothing to hand over."""
    return {}


def drop_root(policy: Policy) -> list[str]:
    return []  # apps run as the user who started the runtime here


def loopback_peer_uid(server: tuple, peer: tuple) -> int | None:
    """None: not known here (see apaf.admin.peer for what the admin UI does then)."""
    return None

"""Windows: nothing is confined yet, and the runtime says so instead of pretending.

What the runtime applies on Windows today: the app runs as its own process, bound to
127.0.0.1, with its own data directory (ACL: the user only, like every file the runtime
writes). What it does NOT apply (runtime/README.md, "Sandbox"): no AppContainer, no
restricted token, no job-object limits, no file or network filtering; an app can read what
the user can read and open any connection. `apaf status --json` reports files, network and
system_calls as false, and the admin UI shows each privilege as not enforced.
"""
from __future__ import annotations

from apaf.sandbox.policy import Policy
from apaf.sandbox.same_user import app_identity, drop_root, loopback_peer_uid  # noqa: F401 (this platform's)

NOT_APPLIED = ("no AppContainer or restricted token: files the user can read are readable; "
               "no network filter: any TCP/UDP connection is possible")


def probe() -> dict:
    return {"platform": "windows", "files": False, "network": False, "system_calls": False,
            "signals": False, "not_applied": NOT_APPLIED}


def apply(policy: Policy) -> list[str]:
    return [f"Windows: this app is NOT confined ({NOT_APPLIED})"]


def wrap_command(policy: Policy, argv: list[str]) -> list[str]:
    return argv


def listener():
    """A port the app binds itself: no socket inheritance by number here (apaf.apps.handover)."""
    from apaf.apps.handover import OwnPort
    return OwnPort()


def tor_owner():
    """Tor polls __OwningControllerProcess: no fd can be handed down by number here (apaf.tor.owner)."""
    from apaf.tor.owner import OwnerPid
    return OwnerPid()


def watch_launchers(on_gone) -> list[int]:
    """Nothing to watch: PyInstaller's onefile bootloader puts its child in a job object that is
    closed, and the child killed, when the bootloader dies (not run here: no Windows host)."""
    return []

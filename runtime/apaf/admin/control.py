"""The interface the admin UI uses to drive the runtime.

The runtime's ``Runtime`` class implements ``RuntimeControl``; the admin UI only
ever talks to the runtime through these members, so tests can pass a test
double.  Status dicts follow the ``apaf status --json`` shape:

    {"tor": {"running", "version", "bootstrap", "summary", "socks"},
     "apps": [{"name", "title", "enabled", "running", "onion", "published",
               "reachability": None | {"ok", "seconds", "error", "at"}}],
     "service_running": bool, "admin": "http://127.0.0.1:P/"}
(``admin`` is only the listening address: the admin UI answers on a secret name.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class RuntimeControl(Protocol):
    async def status(self) -> dict:
        """The current status, in the shape described in the module docstring."""

    async def start_service(self) -> None:
        """Publish the enabled apps' onion services."""

    async def stop_service(self) -> None:
        """Remove the onion services; apps may keep running."""

    def available_apps(self) -> list[dict]:
        """Every bundled app: ``[{"name", "title", "enabled"}]``."""

    async def set_enabled_apps(self, names: list[str]) -> None:
        """Run exactly these apps; an unknown name raises ``ValueError``."""

    def tor2web_allowed(self) -> bool:
        """Whether apps answer requests relayed by a tor2web gateway (settings.json)."""

    async def set_tor2web(self, allow: bool) -> None:
        """Save the tor2web choice and restart the running apps so they apply it."""

    async def test_reachability(self, name: str) -> dict:
        """Fetch the app's own .onion through tor: ``{"ok", "seconds", "error", "at"}``."""

    def torrc_extra(self) -> str:
        """The user's extra torrc lines currently in force."""

    async def apply_torrc_extra(self, text: str) -> str | None:
        """Check against the allowlist (``apaf.tor.policy``) and ``tor --verify-config``,
        apply to the running tor, confirm, and only then save.

        On failure raise ``apaf.errors.TorrcRejected(message)`` and change nothing.
        Returns a note for the user when applying it meant more (tor restarted), else None.
        """

    def quit(self) -> None:
        """Stop the runtime (apps, tor, this UI) as Ctrl-C would; returns at once."""

    def splash_image(self) -> Path | None:
        """The app developer's splash image (from the manifest), if any."""

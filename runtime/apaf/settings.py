"""The user's choices in D/settings.json (0600, written atomically): which apps run, tor2web, service on/off.

An app never seen before (not in `known_apps`) starts enabled, so adding an app directory to
`apaf run` just works; an app the user disabled stays disabled.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from apaf.errors import ConfigError
from apaf.fsutil import atomic_write


@dataclass
class Settings:
    enabled_apps: list[str] = field(default_factory=list)
    known_apps: list[str] = field(default_factory=list)
    allow_tor2web: bool = False
    service_running: bool = True

    @classmethod
    def load(cls, path: Path) -> "Settings":
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (ValueError, OSError) as err:
            raise ConfigError(f"{path}: unreadable settings ({err}); fix the JSON or delete the file "
                              f"to start from defaults (all apps enabled)") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: settings must be a JSON object; delete the file to reset")
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        try:
            s = cls(**known)
        except TypeError as err:
            raise ConfigError(f"{path}: {err}; delete the file to reset") from None
        if not (isinstance(s.enabled_apps, list) and isinstance(s.known_apps, list)):
            raise ConfigError(f"{path}: enabled_apps/known_apps must be lists; delete the file to reset")
        return s

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", mode=0o600)

    def adopt(self, names: list[str]) -> None:
        """Enable every app that was never seen before; remember all of them."""
        for name in names:
            if name not in self.known_apps:
                self.known_apps.append(name)
                if name not in self.enabled_apps:
                    self.enabled_apps.append(name)

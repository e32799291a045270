"""What the `macapp` step needs from the manifest, rendered on the farm's side.

`render(manifest, package_dir, minimum_macos)` writes `<package_dir>/macos/`:
`Info.plist`, `<name>.icns` (when the app has an icon) and `meta.env` (APP_EXECUTABLE,
ICON_FILE) for toolchains/recipes/macapp/build.sh, which lays them into the frozen
.app beside tor and signs the result. `minimum_macos(target)` is the target's
MACOSX_DEPLOYMENT_TARGET. Bad values raise ConfigError naming the fix.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from ...errors import ConfigError
from .icns import icns_bytes
from .plist import info_plist

SUBDIR = "macos"


def minimum_macos(target) -> str:
    """The oldest macOS the target's binaries run on (its toolchains' MACOSX_DEPLOYMENT_TARGET)."""
    found = {tc.get("MACOSX_DEPLOYMENT_TARGET") for tc in target.toolchains.values()} - {None}
    if len(found) != 1:
        raise ConfigError(f"{target.path}: a macOS target needs one MACOSX_DEPLOYMENT_TARGET in its "
                          f"[toolchains] (found {sorted(found) or 'none'}); set it, e.g. \"11.0\"")
    return found.pop()


def render(manifest, package_dir: Path, minimum_macos: str) -> Path:
    """Write the macOS parts of the `package` input; returns the folder written."""
    out = Path(package_dir) / SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    icon_file = f"{manifest.name}.icns" if manifest.icon else ""
    if icon_file:
        (out / icon_file).write_bytes(icns_bytes(manifest.icon))
    # PyInstaller names the executable in Contents/MacOS after --name, the manifest's name.
    (out / "Info.plist").write_bytes(info_plist(manifest, executable=manifest.name,
                                                icon_file=icon_file or None, minimum_macos=minimum_macos))
    (out / "meta.env").write_text(f"APP_EXECUTABLE={shlex.quote(manifest.name)}\n"
                                  f"ICON_FILE={shlex.quote(icon_file)}\n")
    return out

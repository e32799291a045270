"""The macOS locks: the Linux locks' pins, with the hashes of the macOS files.

A macOS bundle's wheels step runs on a Mac and downloads macOS wheels, whose
hashes the Linux locks (one file per package) do not hold. `ci/farm lock`
also makes, resolved on Linux like the others, for every macOS target's
wheel tag (its toolchain's PIP_PLATFORM):
- `toolchains/recipes/wheels/tools.macos.lock` from tools.macos.in (no
  staticx; macholib named), wheels only;
- `runtime/requirements.macos.lock` and `<app>/requirements.macos.lock`:
  exactly the Linux lock's pins (`--no-deps`, so sdist-only stem stays), so
  both OSes ship the same versions. A changed Linux lock makes these stale.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .. import paths
from ..recipes import list_targets, load_target
from .lock import check_lock, pins, read_requirements, write_lock

TOOLS_IN = paths.RECIPES / "wheels" / "tools.macos.in"
TOOLS_LOCK = paths.RECIPES / "wheels" / "tools.macos.lock"
RUNTIME_LOCK = paths.REPO / "runtime" / "requirements.macos.lock"


def platforms() -> tuple[str, ...]:
    """The wheel tags of every macOS target, e.g. ("macosx_11_0_arm64", "macosx_10_15_x86_64")."""
    found = []
    for name in list_targets():
        target = load_target(name)
        if target.os == "macos":
            found += [tc["PIP_PLATFORM"] for tc in target.toolchains.values() if "PIP_PLATFORM" in tc]
    return tuple(sorted(set(found)))


def _exact(lock: Path) -> list[str]:
    return [f"{n}=={v}" for n, v in sorted(pins(lock).items())] if lock.is_file() else []


def jobs(manifest) -> list[tuple[Path, list[str], bool]]:
    """(macOS lock, its requirements, no_deps) for the tools, the runtime and (if any) the app."""
    out = [(TOOLS_LOCK, read_requirements(TOOLS_IN), False),
           (RUNTIME_LOCK, _exact(paths.REPO / "runtime" / "requirements.lock"), True)]
    if manifest is not None and manifest.dependencies:
        out.append((manifest.app_dir / "requirements.macos.lock", _exact(manifest.app_dir / "requirements.lock"), True))
    return out


def check(manifest, fix) -> None:
    """ConfigError naming the macOS lock to (re)make, with fix(app_dir or None) as the command."""
    for lock, reqs, _ in jobs(manifest):
        check_lock(lock, reqs, fix(manifest.app_dir if lock.parent == manifest.app_dir else None))


def write(python: Path, manifest, env: dict[str, str], log) -> dict[Path, dict[str, str]]:
    done = {}
    for lock, reqs, no_deps in jobs(manifest):
        try:
            check_lock(lock, reqs, "")
            log(f"{lock}: up to date")
            continue
        except Exception:  # noqa: BLE001 - stale or missing: remake it
            pass
        done[lock] = write_lock(python, reqs, lock, env=env, log=log, platforms=platforms(), no_deps=no_deps)
    return done


def stage(manifest, req_dir: Path) -> None:
    """Put the macOS locks where the wheels step reads the runtime's and the app's."""
    shutil.copyfile(RUNTIME_LOCK, req_dir / "runtime.lock")
    if manifest.dependencies:
        shutil.copyfile(manifest.app_dir / "requirements.macos.lock", req_dir / "app.lock")

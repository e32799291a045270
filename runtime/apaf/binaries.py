"""Third-party programs an app may run (`extra_binaries`): which exist, and where they are.

    apaf.binary("gpg")          absolute path of the bundled gpg, for the app's subprocess calls
    executables(manifest)       every file the sandbox lets the app execute

The farm builds each program from its recipe and the bundle carries only those the app's
manifest lists, in `bin/` of the bundle's unpack directory. In the dev tree (no bundle),
`APAF_BINARIES` names a folder holding them: `ci/farm binaries --dest DIR` fills one.
A name that is not listed, not granted (`run-binaries`) or not there raises
`apaf.errors.BinaryNotFound` saying which of the three it is and the fix.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from apaf.errors import BinaryNotFound

ENV_VAR = "APAF_BINARIES"
PRIVILEGE = "run-binaries"
BUNDLE_DIR = "bin"
BUILD_HINT = "ci/farm binaries --dest DIR"


@dataclass(frozen=True)
class Program:
    """One name an app may list; `files` are what it executes (the first is what the app runs)."""

    description: str
    files: tuple[str, ...]


# Each name is built by a farm recipe (toolchains/bundles/<target>.toml, [binaries]).
# `files` lists helpers a program starts itself, which the sandbox must allow too (none
# today: the bundled gpg is GnuPG 1.4, which needs no gpg-agent; see its recipe's README).
PROGRAMS = {
    "gpg": Program("GnuPG: OpenPGP sign, verify, encrypt, decrypt", ("gpg",)),
    "7zz": Program("7-Zip: make and extract .7z, .zip, .tar.xz and other archives", ("7zz",)),
}


def search_dirs() -> list[Path]:
    """Where the programs are looked for: the bundle's bin/, then $APAF_BINARIES."""
    dirs = []
    if getattr(sys, "frozen", False):
        dirs.append(Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent)) / BUNDLE_DIR)
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]).absolute())
    return dirs


def _locate(file: str) -> Path | None:
    for d in search_dirs():
        cand = d / file
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def resolve(manifest, name: str) -> Path:
    """The absolute path of `name` for the app of `manifest`; BinaryNotFound with the fix otherwise."""
    where = manifest.path
    if name not in manifest.extra_binaries:
        known = f"; programs the farm provides: {', '.join(sorted(PROGRAMS))}" if name not in PROGRAMS else ""
        raise BinaryNotFound(f"{where}: [app].extra_binaries does not list {name!r}; add "
                             f"extra_binaries = [\"{name}\"] (and \"{PRIVILEGE}\" to privileges), then "
                             f"rebuild the bundle{known}")
    if PRIVILEGE not in manifest.privileges:
        raise BinaryNotFound(f"{where}: [app].privileges lacks {PRIVILEGE!r}, which running {name} needs; "
                             f"add privileges = [\"{PRIVILEGE}\", ...]")
    found = _locate(PROGRAMS[name].files[0])
    if found is None:
        looked = ", ".join(str(d) for d in search_dirs()) or "nowhere: not a bundle and $APAF_BINARIES unset"
        raise BinaryNotFound(f"{name} is listed in {where} but not found (looked in {looked}); a bundle "
                             f"built by `ci/farm build` carries it; in the dev tree run `{BUILD_HINT}` "
                             f"and set {ENV_VAR}=DIR")
    return found


def executables(manifest) -> list[Path]:
    """Every file the app may execute: the listed programs and their helpers, resolved, sorted.

    Empty without the run-binaries privilege. The sandbox grants execute on exactly these;
    raises BinaryNotFound if a listed program is missing (the app could not work anyway).
    """
    if PRIVILEGE not in manifest.privileges:
        return []
    out = []
    for name in manifest.extra_binaries:
        first = resolve(manifest, name)
        out += [first.parent / f for f in PROGRAMS[name].files]
    return sorted(set(out))


def binary(name: str) -> Path:
    """The absolute path of program `name` listed in this app's extra_binaries (run with subprocess)."""
    from apaf.appenv import require
    from apaf.manifest import load_manifest
    return resolve(load_manifest(require("APAF_APP_DIR")), name)

"""Re-pin a source to a new version: download, hash, check the signature, rewrite the manifest.

Nobody edits hashes by hand. The new tarball is fetched from the entry's own
mirrors (URL templates with `{version}`), its signature (where the entry
requires one) must verify against the pinned signer, and only then are
`version` and the sha256 values written back, keeping the file's comments.
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import tomlkit

from .. import paths
from ..errors import SourceError
from . import upstream
from .debian import DebianArchive
from .manifest import load_manifest
from .verify import check_signature, sha256_of


def repin(name: str, version: str, *, manifest_path: Path | None = None,
          debian_mirror: str | None = None, cache: Path | None = None, log=print) -> list[str]:
    """Re-pin and return what was written; raises (writing nothing) when no verified copy is found."""
    manifest_path = manifest_path or paths.SOURCE_MANIFEST
    doc = tomlkit.parse(manifest_path.read_text())
    if name not in doc:
        raise SourceError(f"{manifest_path}: no [{name}] entry; add one by hand first (without hashes)")
    entry = doc[name]
    old = load_manifest(manifest_path)[name]
    raw_upstream = entry.get("upstream")
    debian = entry.get("debian")
    new_up = raw_upstream.format(version=version) if raw_upstream else None
    new_deb_file = debian["file"].format(version=version) if debian else None
    root = (cache or paths.cache_root()) / "sources"
    root.mkdir(parents=True, exist_ok=True)
    hashes = {}
    with tempfile.TemporaryDirectory(dir=root, prefix=".repin-") as tmp:
        tmp = Path(tmp)
        if new_up:
            got = upstream.download(new_up, tmp, want_signature=old.signature.required, log=log)
            if got:
                hashes["upstream"] = _checked(got[0], old.signature)
        if debian:
            archive = DebianArchive(root / ".apt", mirror=debian_mirror, log=log)
            got = archive.download(str(debian["package"]), new_deb_file, tmp / "debian")
            if got:
                hashes["debian"] = _checked(got[0], old.signature)
    notes = []
    if not hashes:
        raise SourceError(f"{name} {version}: no mirror served it ({new_up or ''} {new_deb_file or ''}); "
                          "check the version string and the network")
    entry["version"] = version
    if "upstream" in hashes:
        entry["sha256"] = hashes["upstream"]
        if debian is not None:
            if hashes.get("debian", hashes["upstream"]) != hashes["upstream"]:
                debian["sha256"] = hashes["debian"]
            elif "sha256" in debian:
                del debian["sha256"]
    else:
        # Upstream unreachable from here: pin what Debian serves, said plainly.
        entry["sha256"] = hashes["debian"]
        notes.append(f"warning: upstream not reachable; pinned Debian's bytes for both mirrors. "
               f"If upstream serves a repack-free tarball with other bytes, re-run where it is reachable.")
    manifest_path.write_text(tomlkit.dumps(doc))
    load_manifest(manifest_path)  # what we wrote must load
    return notes + [f"{name} {version}: {where} sha256 {h}" for where, h in hashes.items()]


def _checked(path: Path, sig) -> str:
    asc = path.with_name(path.name + ".asc")
    check_signature(path, asc if asc.exists() else None, dataclasses.replace(sig))
    return sha256_of(path)

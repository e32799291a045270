"""Re-pin a source to a new version: download, hash, check the signature, rewrite the manifest.

Nobody edits hashes by hand. The new tarball is fetched from the entry's own
mirrors (URL templates with `{version}`), its signature (where the entry
requires one) must verify against the pinned signer, and only then are
`version` and the sha256 values written back, keeping the file's comments.

Where both mirrors serve the new version their bytes are compared: for an
entry without a signature that comparison is the only check that the pinned
tarball is the one upstream published, so a difference stops the re-pin
unless the caller accepts it with a reason (Debian repacks some tarballs),
which is recorded as the entry's `debian.differs`.
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
          debian_mirror: str | None = None, cache: Path | None = None, log=print,
          accept_debian_difference: str = "", debian_keyring: str | None = None,
          debian_security_mirror: str | None = None) -> list[str]:
    """Re-pin and return what was written; raises (writing nothing) when no verified copy is found.

    A Debian tarball whose bytes differ from upstream's raises SourceError unless
    `accept_debian_difference` gives the reason, which is written to the manifest.
    `debian_keyring` is the keyring the archive's index is checked with (default Debian's);
    `debian_security_mirror` the security archive (default: the machine's, see debian.py).
    """
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
    sig = old.signature
    if sig.file is not None:
        # No mirror serves this entry's signature: the new version's must already sit in the checkout.
        kept = paths.KEYS.parent / str(entry["signature"]["file"]).format(version=version)
        if not kept.is_file():
            raise SourceError(f"{name} {version}: its signature is kept in the checkout and {kept} does not "
                              "exist; put the upstream's detached signature of that tarball there, then re-run")
        sig = dataclasses.replace(sig, file=kept)
    root = (cache or paths.cache_root()) / "sources"
    root.mkdir(parents=True, exist_ok=True)
    hashes = {}
    with tempfile.TemporaryDirectory(dir=root, prefix=".repin-") as tmp:
        tmp = Path(tmp)
        if new_up:
            got = upstream.download(new_up, tmp, want_signature=sig.required and not sig.file, log=log)
            if got:
                hashes["upstream"] = _checked(got[0], sig)
        if debian:
            archive = DebianArchive(root / ".apt", mirror=debian_mirror, log=log,
                                    security_mirror=debian_security_mirror,
                                    **({"keyring": debian_keyring} if debian_keyring else {}))
            got = archive.download(str(debian["package"]), new_deb_file, tmp / "debian")
            if got:
                hashes["debian"] = _checked(got[0], sig)
    notes = []
    if not hashes:
        raise SourceError(f"{name} {version}: no mirror served it ({new_up or ''} {new_deb_file or ''}); "
                          "check the version string and the network")
    differs = "upstream" in hashes and hashes.get("debian", hashes["upstream"]) != hashes["upstream"]
    if differs and not accept_debian_difference.strip():
        unsigned = not old.signature.required
        raise SourceError(
            f"{name} {version}: Debian's {new_deb_file} (sha256 {hashes['debian']}) has other bytes than "
            f"upstream's {new_up} (sha256 {hashes['upstream']}); nothing was written to {manifest_path}.\n"
            + ("  This entry has no signature, so this comparison is its only cross-check: one of the two "
               "may have been tampered with.\n" if unsigned else "")
            + "  Compare the two tarballs (e.g. `diff <(tar -tzf A) <(tar -tzf B)`, diffoscope); if Debian "
            "repacked it for a known reason, accept that with\n"
            f"    ci/farm sources.update {name} {version} --accept-debian-difference \"<reason>\"\n"
            "  and the reason is recorded in the entry as debian.differs."
        )
    entry["version"] = version
    if debian is not None and "debian" not in hashes and "upstream" in hashes:
        notes.append(f"warning: Debian's archive did not serve {new_deb_file}, so upstream's bytes were not "
                     "cross-checked" + ("" if old.signature.required else " (and the entry has no signature)")
                     + "; re-run once Debian carries it")
    if "upstream" in hashes:
        entry["sha256"] = hashes["upstream"]
        if debian is not None:
            if differs:
                debian["sha256"] = hashes["debian"]
                debian["differs"] = accept_debian_difference.strip()
                notes.append(f"note: Debian's bytes differ from upstream's, accepted: {debian['differs']}")
            else:
                for key in ("sha256", "differs"):
                    if key in debian:
                        del debian[key]
    else:
        # Upstream unreachable from here: pin what Debian serves, said plainly.
        entry["sha256"] = hashes["debian"]
        for key in ("sha256", "differs"):   # the old version's repack note no longer applies
            if key in debian:
                del debian[key]
        if new_up is None:
            notes.append("note: the entry has no upstream URL; pinned Debian's bytes")
        else:
            notes.append("warning: upstream not reachable; pinned Debian's bytes for both mirrors. "
                         "If upstream serves a repack-free tarball with other bytes, re-run where it is reachable.")
    manifest_path.write_text(tomlkit.dumps(doc))
    load_manifest(manifest_path)  # what we wrote must load
    return notes + [f"{name} {version}: {where} sha256 {h}" for where, h in hashes.items()]


def _checked(path: Path, sig) -> str:
    asc = sig.file or path.with_name(path.name + ".asc")
    check_signature(path, asc if asc.exists() else None, sig)
    return sha256_of(path)

"""`invoke verify DIR --key FILE`: check a downloaded release without trusting the machine that made it.

In this order, stopping at the first kind of problem (each its own exit code):
1. SHA256SUMS and the provenance carry good detached signatures made by the key in FILE
   (imported into a throwaway keyring: nothing else the user's gpg trusts counts)  → 31;
2. every file SHA256SUMS lists is present with that sha256, and nothing else but the
   two signatures lies in DIR                                                     → 32;
3. the provenance names each artifact and SBOM with the same sha256; each artifact's
   SBOM names it with its sha256; a .deb's and an .rpm's SBOM name the program inside
   them, which is read out of the package and is the static bundle, byte for byte  → 33;
4. a file that should be there is missing or is not what it claims to be (not JSON, not
   CycloneDX 1.6 by the schema, not an in-toto/SLSA statement)                    → 34.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from ..errors import ConfigError, FarmError
from . import provenance as prov
from . import sbom
from .packages import packaged_program

SUMS = "SHA256SUMS"
REPORT = "release-report.json"


class BadSignature(FarmError):
    exit_code = 31


class HashMismatch(FarmError):
    exit_code = 32


class Disagrees(FarmError):
    exit_code = 33


class Malformed(FarmError):
    exit_code = 34


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_signatures(folder: Path, key_file: Path) -> str:
    import gnupg
    if not key_file.is_file():
        raise ConfigError(f"key file {key_file} does not exist: pass --key with the release key's public key "
                          "(an .asc file from the project's site or README)")
    with tempfile.TemporaryDirectory(prefix="apaf-verify-") as home:
        gpg = gnupg.GPG(gnupghome=home)
        imported = gpg.import_keys(key_file.read_text(errors="replace"))
        fprs = {f for f in imported.fingerprints if f}
        if not fprs:
            raise ConfigError(f"{key_file} holds no OpenPGP public key gpg can read")
        for name in (SUMS, prov.FILE):
            data, sig = folder / name, folder / f"{name}.asc"
            for p in (data, sig):
                if not p.is_file():
                    raise Malformed(f"{p} is missing: a release has {SUMS}, {prov.FILE} and a .asc signature of each")
            with open(sig, "rb") as f:
                result = gpg.verify_file(f, str(data))
            signer = (result.pubkey_fingerprint or result.fingerprint or "") if result else ""
            if not result or not result.valid or signer not in fprs:
                why = (result.status if result else "") or "no valid signature"
                raise BadSignature(f"{sig.name} is not a good signature of {name} by {', '.join(sorted(fprs))} "
                                   f"({why}): the file or its signature was changed, or it was signed by "
                                   "another key. Do not use this download")
        return ", ".join(sorted(fprs))


def _check_sums(folder: Path) -> dict[str, str]:
    listed = {}
    for line in (folder / SUMS).read_text().splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or "/" in name:
            raise Malformed(f"{SUMS} has a line that is not '<sha256>  <file name>': {line[:100]!r}")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            raise HashMismatch(f"{name} is listed in {SUMS} but missing from {folder}")
        actual = _sha(path)
        if actual != digest:
            raise HashMismatch(f"{name}: sha256 {actual}, but {SUMS} says {digest}: the file was changed or "
                               "damaged in transit; download it again")
    allowed = set(listed) | {SUMS, f"{SUMS}.asc", f"{prov.FILE}.asc"}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if extra:
        raise HashMismatch(f"{folder} holds files the signed {SUMS} does not list: {', '.join(extra)}; "
                           "they are not part of the release")
    return listed


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise Malformed(f"{path.name} is not readable JSON: {exc}") from None


def _check_contents(folder: Path, listed: dict[str, str]) -> dict:
    doc = _json(folder / prov.FILE)
    problem = prov.check_shape(doc)
    if problem:
        raise Malformed(f"{prov.FILE} is not an in-toto v1 statement with SLSA v1 provenance: {problem}")
    subjects = {s["name"]: s["digest"]["sha256"] for s in doc["subject"]}
    report = _json(folder / REPORT)
    artifacts = report.get("artifacts", {})
    sboms = report.get("sboms", {})
    for name in sorted(set(artifacts) | set(sboms.values())):
        if subjects.get(name) != listed.get(name):
            raise Disagrees(f"the provenance says {name} has sha256 {subjects.get(name)}, the release holds "
                            f"{listed.get(name)}")
    for name in sorted(set(subjects) - set(listed)):
        raise Disagrees(f"the provenance names {name}, which the release does not hold")
    statics = {}
    for name, digest in sorted(artifacts.items()):
        if listed.get(name) != digest:
            raise Disagrees(f"{REPORT} says {name} has sha256 {digest}, the release holds {listed.get(name)}")
        if name not in sboms or not (folder / sboms[name]).is_file():
            raise Malformed(f"{name} has no SBOM ({name}{sbom.SUFFIX})")
        text = (folder / sboms[name]).read_text()
        invalid = sbom.validate(text)
        if invalid:
            raise Malformed(f"{sboms[name]} is not valid CycloneDX 1.6: {invalid}")
        said, own, inner = sbom.artifact_digests(json.loads(text))
        if (said, own) != (name, digest):
            raise Disagrees(f"{sboms[name]} describes {said} with sha256 {own}, not {name} ({digest})")
        if name.endswith((".deb", ".rpm")):
            app = next((p["value"] for p in json.loads(text)["metadata"]["component"].get("properties", [])
                        if p["name"] == "apaf:app"), "")
            try:
                program = hashlib.sha256(packaged_program(folder / name, app)).hexdigest()
            except ValueError as exc:
                raise Malformed(f"cannot read the program inside {name}: {exc}") from None
            if program != inner:
                raise Disagrees(f"{name} installs a program with sha256 {program}, its SBOM says {inner}")
            statics[name] = program
    static_digests = {d for n, d in artifacts.items() if not n.endswith((".deb", ".rpm"))}
    for name, program in sorted(statics.items()):
        if program not in static_digests:
            raise Disagrees(f"the program inside {name} ({program}) is none of the release's static bundles")
    return {"commit": prov.commit_of(doc), "artifacts": len(artifacts), "agreed": report.get("agreed", {}),
            "cross_checked": report.get("cross_checked", False)}


def verify(folder: Path, key_file: Path) -> dict:
    """Raise the FarmError subclass of the first problem found; else a summary of what was checked."""
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: pass the folder the release was downloaded into")
    signer = _check_signatures(folder, key_file)
    listed = _check_sums(folder)
    summary = _check_contents(folder, listed)
    summary.update(signer=signer, files=len(listed))
    return summary

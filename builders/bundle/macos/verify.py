"""Check a signed .app the way macOS does at launch, on Linux: code pages, Info.plist, resource seal.

`verify_app(app)` returns a `Report` whose `problems` list every mismatch ([] means the
bundle is intact): each architecture's code page hashes of the main executable, its
Info.plist and CodeResources slot hashes, and every file of the bundle against the seal
in `Contents/_CodeSignature/CodeResources` (sha256 for plain files, the cdhash and own
page hashes for nested code such as tor, and no file added). It reads signatures made by
anyone (rcodesign, Apple's codesign); it does not check certificate chains (`rcodesign
verify` does that for Developer ID signatures; macOS itself for notarization).
"""
from __future__ import annotations

import hashlib
import os
import plistlib
from dataclasses import dataclass, field
from pathlib import Path

from .signature import SLOT_INFO, SLOT_RESOURCEDIR, SignatureError, check_code, signatures

SEAL = "Contents/_CodeSignature/CodeResources"


@dataclass
class Report:
    app: Path
    executable: str = ""
    identifier: str = ""
    adhoc: bool = False
    hardened_runtime: bool = False
    team: str = ""
    sealed_files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _files(app: Path) -> dict[str, Path]:
    """Every file and symlink under Contents/, by its path relative to Contents/."""
    contents = app / "Contents"
    out = {}
    for dirpath, dirnames, filenames in os.walk(contents):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath) / name
            out[path.relative_to(contents).as_posix()] = path
    return out


def _check_nested(rel: str, path: Path, entry: dict, problems: list[str]) -> None:
    try:
        sigs = signatures(path)
    except SignatureError as exc:
        problems.append(f"{rel}: sealed as signed code but {exc}")
        return
    if entry["cdhash"] not in {cd.cdhash for s in sigs for cd in s.directories}:
        problems.append(f"{rel}: its code directory hash differs from the one the bundle sealed")
    problems.extend(check_code(path))


def _check_seal(app: Path, seal: dict, skip: set[str], report: Report) -> None:
    sealed = seal.get("files2", {})
    present = {rel: p for rel, p in _files(app).items() if rel not in skip}
    for rel, entry in sorted(sealed.items()):
        path = present.pop(rel, None)
        if not isinstance(entry, dict):
            entry = {"hash": entry}
        if path is None:
            if not entry.get("optional"):
                report.problems.append(f"{rel}: sealed but missing from the bundle")
            continue
        report.sealed_files += 1
        if "symlink" in entry:
            if not path.is_symlink() or os.readlink(path) != entry["symlink"]:
                report.problems.append(f"{rel}: symlink target changed since signing")
        elif "cdhash" in entry:
            _check_nested(rel, path, entry, report.problems)
        elif "hash2" in entry:
            if path.is_symlink() or hashlib.sha256(path.read_bytes()).digest() != entry["hash2"]:
                report.problems.append(f"{rel}: modified after signing (sha256 differs from the seal)")
        else:
            report.problems.append(f"{rel}: seal entry has no sha256 ({sorted(entry)})")
    for rel in sorted(present):
        report.problems.append(f"{rel}: added after signing (not in the seal)")


def verify_app(app: Path) -> Report:
    """Check `app` (a .app folder); the report lists every problem found."""
    app = Path(app)
    report = Report(app)
    info_path = app / "Contents" / "Info.plist"
    try:
        info_bytes = info_path.read_bytes()
        report.executable = plistlib.loads(info_bytes)["CFBundleExecutable"]
    except (OSError, plistlib.InvalidFileException, KeyError) as exc:
        report.problems.append(f"Contents/Info.plist: unreadable or without CFBundleExecutable ({exc})")
        return report
    exe = app / "Contents" / "MacOS" / report.executable
    try:
        sigs = signatures(exe)
    except (OSError, SignatureError) as exc:
        report.problems.append(f"main executable: {exc}")
        return report
    try:
        seal_bytes = (app / SEAL).read_bytes()
        seal = plistlib.loads(seal_bytes)
    except (OSError, plistlib.InvalidFileException) as exc:
        report.problems.append(f"{SEAL}: unreadable ({exc}); the bundle's resources are not sealed")
        return report
    report.problems.extend(check_code(exe))
    for sig in sigs:
        for cd in sig.directories:
            report.identifier, report.team = cd.identifier, cd.team
            report.adhoc = report.adhoc or cd.adhoc
            report.hardened_runtime = report.hardened_runtime or cd.hardened_runtime
            for slot, data, what in ((SLOT_INFO, info_bytes, "Contents/Info.plist"),
                                     (SLOT_RESOURCEDIR, seal_bytes, SEAL)):
                if cd.special.get(slot) != cd.hash(data):
                    report.problems.append(f"{what}: changed after signing ({sig.arch} signature's hash "
                                           "differs)")
    skip = {"Info.plist", f"MacOS/{report.executable}"} | {
        rel for rel in _files(app) if rel.startswith("_CodeSignature/")}
    _check_seal(app, seal, skip, report)
    return report

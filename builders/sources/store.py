"""The source store: fetch each pinned tarball once, verify it, keep it by name.

Layout: `<cache>/sources/<file>` (+ `<file>.asc`). A file is moved there only
after its sha256 and (where required) its signature check out, so whatever
sits in the store has been verified; it is re-hashed before every use anyway,
since a cache on disk can be damaged later. The signature is not checked again
for bytes it was already checked on: `<file>.verified` records the signer for
that tarball's sha256, its .asc and the key file's digests, and any change to
one of them (a new key file carrying a revocation, another .asc) checks it anew.
That spares every farm command a gpg run per source (~0.3 s each);
`ci/farm sources.verify` still runs gpg on every file (`cached(src, recheck=True)`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import SourceError, VerificationError
from . import upstream
from .debian import DebianArchive
from .manifest import Source, load_manifest
from .verify import check_sha256, check_signature


@dataclass(frozen=True)
class Fetched:
    source: Source
    path: Path           # the verified tarball
    sha256: str          # what it hashed to (the pin of the mirror it came from)
    signer: str          # fingerprint that signed it, "" when unverified by policy


class SourceStore:
    def __init__(self, cache: Path | None = None, *, manifest: dict[str, Source] | None = None,
                 debian_mirror: str | None = None, offline_upstream: bool = False, log=print):
        self.root = (cache or paths.cache_root()) / "sources"
        self.manifest = manifest if manifest is not None else load_manifest()
        self.log = log
        self.offline_upstream = offline_upstream
        self.debian = DebianArchive(self.root / ".apt", mirror=debian_mirror, log=log)

    def _candidates(self, src: Source):
        """(file name, expected sha256, fetcher) per mirror, in order."""
        if src.upstream and not self.offline_upstream:
            yield src.upstream_file, src.sha256, lambda d: upstream.download(
                src.upstream, d, want_signature=src.signature.required and not src.signature.file, log=self.log)
        if src.debian:
            pin = src.debian
            yield pin.file, pin.sha256, lambda d: self.debian.download(pin.package, pin.file, d)

    def _verify(self, src: Source, path: Path, sha: str, *, remember: bool = False,
                trust_record: bool = True) -> Fetched:
        check_sha256(path, sha, fix=f"Delete it and run `ci/farm sources.fetch --only {src.name}`.")
        asc = src.signature.file or path.with_name(path.name + ".asc")
        record = path.with_name(path.name + ".verified")
        checked = [sha, _digest(asc), _digest(src.signature.key), src.signature.fingerprint or ""]
        if remember and trust_record:
            try:
                saved = json.loads(record.read_text())
                if saved["checked"] == checked:
                    return Fetched(src, path, sha, saved["signer"])
            except (OSError, ValueError, KeyError, TypeError):
                pass   # no record, or an unreadable one: check the signature
        signer = check_signature(path, asc if asc.exists() else None, src.signature)
        if remember:
            tmp = record.with_name(f".{record.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"checked": checked, "signer": signer}))
            os.replace(tmp, record)
        return Fetched(src, path, sha, signer)

    def cached(self, src: Source, *, recheck: bool = False) -> Fetched | None:
        """The verified stored file for src, or None if none is stored. Raises if one is damaged.

        recheck: run gpg on the signature even if it was already checked on these bytes."""
        for name, sha, _ in self._candidates(src):
            path = self.root / name
            if path.is_file():
                return self._verify(src, path, sha, remember=True, trust_record=not recheck)
        return None

    def fetch(self, name: str) -> Fetched:
        src = self._source(name)
        have = self.cached(src)
        if have:
            return have
        self.root.mkdir(parents=True, exist_ok=True)
        errors = []
        for fname, sha, fetcher in self._candidates(src):
            with tempfile.TemporaryDirectory(dir=self.root, prefix=".fetch-") as tmp:
                files = fetcher(Path(tmp))
                got = Path(tmp) / fname
                if not got.is_file():
                    errors.append(f"{fname}: not served by this mirror")
                    continue
                try:
                    self._verify(src, got, sha)
                except VerificationError as exc:
                    # A bad file from one mirror is reported, never used; the
                    # next mirror may still serve the good one.
                    errors.append(str(exc))
                    self.log(f"  refused: {exc}")
                    continue
                for f in files:  # the signature first: a tarball without it must not look complete
                    if f.name.endswith(".asc"):
                        os.replace(f, self.root / f.name)
                os.replace(got, self.root / fname)
            return self._verify(src, self.root / fname, sha, remember=True)
        raise SourceError(
            f"{src.name} {src.version}: no mirror served a verified copy:\n  - "
            + "\n  - ".join(errors or ["no mirror configured"])
            + "\nCheck the network or set APAF_DEBIAN_MIRROR; `ci/farm sources.fetch --only "
            + f"{src.name}` retries."
        )

    def _source(self, name: str) -> Source:
        if name not in self.manifest:
            raise SourceError(f"unknown source '{name}'; known: {', '.join(sorted(self.manifest))}")
        return self.manifest[name]

    def remove(self, name: str) -> None:
        src = self._source(name)
        for fname, _, _ in self._candidates(src):
            for p in (self.root / fname, self.root / (fname + ".asc"), self.root / (fname + ".verified")):
                p.unlink(missing_ok=True)

    def path_for_copy(self, fetched: Fetched, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(fetched.path, dest / fetched.path.name)
        return dest / fetched.path.name


def _digest(path: Path | None) -> str:
    """sha256 of a small file (a signature, a key), "" when there is none."""
    if path is None or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()

"""Load and validate tor-src/sources.toml (the pinned source manifest).

The loader refuses an entry without a sha256, with an unknown key, with a
signature entry that is neither a key reference nor an explicit
`"unverified: <reason>"` opt-out, or with a Debian sha256 other than
upstream's and no `differs = "<reason>"`. A key reference may name a
signature `file` kept in the checkout (relative to the keys folder's parent,
tor-src/), for a tarball whose detached signature no mirror serves; it is
checked like a fetched `.asc`.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import ConfigError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FPR = re.compile(r"^[0-9A-F]{40}$")
_KEYS = {"version", "sha256", "upstream", "debian", "signature", "licence"}
_DEBIAN_KEYS = {"package", "file", "sha256", "differs"}


@dataclass(frozen=True, kw_only=True)
class DebianPin:
    package: str
    file: str
    sha256: str
    differs: str = ""       # why Debian's bytes may differ from upstream's (a repack); "" when they may not


@dataclass(frozen=True, kw_only=True)
class Signature:
    key: Path | None            # None: explicitly unverified
    fingerprint: str | None
    reason: str | None = None   # why unverified
    file: Path | None = None    # a signature kept in the checkout; None: the mirror's `<tarball>.asc`

    @property
    def required(self) -> bool:
        return self.key is not None


@dataclass(frozen=True, kw_only=True)
class Source:
    name: str
    version: str
    sha256: str
    upstream: str | None
    debian: DebianPin | None
    signature: Signature
    licence: str = ""          # SPDX expression, for release SBOMs

    @property
    def upstream_file(self) -> str | None:
        return self.upstream.rsplit("/", 1)[-1] if self.upstream else None

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")


def _hint(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_sha(where: str, value) -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise ConfigError(
            f"{where}: sha256 must be 64 lowercase hex digits, got {value!r}; "
            "re-pin with `ci/farm sources.update NAME VERSION` instead of editing by hand"
        )
    return value


def _parse(name: str, entry: dict, manifest: Path, keys_dir: Path) -> Source:
    where = f"{manifest}: [{name}]"
    for key in entry:
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{_hint(key, _KEYS)}")
    if "version" not in entry:
        raise ConfigError(f"{where}: 'version' is required")
    version = str(entry["version"])
    sha256 = _check_sha(f"{where}.sha256", entry.get("sha256"))

    upstream = entry.get("upstream")
    if upstream is not None:
        upstream = upstream.format(version=version)

    debian = None
    if "debian" in entry:
        d = entry["debian"]
        for key in d:
            if key not in _DEBIAN_KEYS:
                raise ConfigError(f"{where}.debian: unknown key '{key}'{_hint(key, _DEBIAN_KEYS)}")
        if "package" not in d or "file" not in d:
            raise ConfigError(f"{where}.debian: needs 'package' and 'file'")
        debian = DebianPin(
            package=d["package"],
            file=d["file"].format(version=version),
            sha256=_check_sha(f"{where}.debian.sha256", d.get("sha256", sha256)),
            differs=str(d.get("differs", "")).strip(),
        )
        # For an unsigned entry the two mirrors agreeing is the only cross-check: other
        # bytes from Debian must come with the reason someone accepted them.
        if debian.sha256 != sha256 and not debian.differs:
            raise ConfigError(
                f"{where}.debian: its sha256 differs from upstream's and no `differs = \"<reason>\"` says why; "
                "re-pin with `ci/farm sources.update NAME VERSION --accept-debian-difference \"<reason>\"` "
                "after comparing the two tarballs"
            )
    if upstream is None and debian is None:
        raise ConfigError(f"{where}: no mirror: give 'upstream' and/or 'debian'")

    sig = entry.get("signature")
    if isinstance(sig, str) and sig.startswith("unverified:") and sig[11:].strip():
        signature = Signature(key=None, fingerprint=None, reason=sig[11:].strip())
    elif isinstance(sig, dict) and set(sig) in ({"key", "fingerprint"}, {"key", "fingerprint", "file"}):
        key = keys_dir / sig["key"]
        if not key.is_file():
            raise ConfigError(f"{where}.signature: key file {key} does not exist; add the signer's public key there")
        if not _FPR.match(sig["fingerprint"]):
            raise ConfigError(f"{where}.signature.fingerprint: want 40 uppercase hex digits, got {sig['fingerprint']!r}")
        kept = None
        if "file" in sig:
            # Beside keys/ (tor-src/), like the key: a copy of the manifest elsewhere still finds it.
            kept = keys_dir.parent / str(sig["file"]).format(version=version)
            if not kept.is_file():
                raise ConfigError(f"{where}.signature.file: {kept} does not exist; put the upstream's detached "
                                  f"signature of the {version} tarball there (or drop `file` if a mirror serves it)")
        signature = Signature(key=key, fingerprint=sig["fingerprint"], file=kept)
    else:
        raise ConfigError(
            f"{where}: 'signature' must be {{ key = \"FILE\", fingerprint = \"FPR\" }} "
            f"(optionally with file = \"PATH\") or \"unverified: <reason>\", got {sig!r}"
        )
    return Source(name=name, version=version, sha256=sha256, upstream=upstream,
                  debian=debian, signature=signature, licence=str(entry.get("licence", "")))


def load_manifest(path: Path | None = None, keys_dir: Path | None = None) -> dict[str, Source]:
    """Parse the manifest into {name: Source}; raises ConfigError naming file and field."""
    path = path or paths.SOURCE_MANIFEST
    keys_dir = keys_dir or paths.KEYS
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return {name: _parse(name, entry, path, keys_dir) for name, entry in data.items()}

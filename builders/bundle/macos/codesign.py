"""Sign a .app from Linux with rcodesign (the farm-built `rcodesign` step).

    sign(rcodesign, app, dest)                          # ad-hoc: what arm64 Macs require at least
    sign(rcodesign, app, dest, identity=DeveloperId(p12=..., password_file=...),
         signing_time="2025-01-01T00:00:00Z", timestamp_url="none")
    notarize(rcodesign, dest, api_key=...)             # upload to Apple, then staple the ticket

`sign` always signs a copy (`dest`, which must not exist): a signing run that fails
halfway (e.g. the timestamp server unreachable) leaves no half-signed bundle behind.
Signatures are reproducible: ad-hoc ones always; certificate ones with a fixed
`signing_time`, an RSA key and no timestamp server (ECDSA signatures are randomized).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError, FarmError


@dataclass(frozen=True)
class DeveloperId:
    """A signing identity: a .p12 (with its password file) or PEM files (key and certificate)."""

    p12: Path | None = None
    password_file: Path | None = None
    pem: tuple[Path, ...] = ()

    def args(self) -> list[str]:
        if self.p12:
            if not self.password_file:
                raise ConfigError(f"{self.p12}: a .p12 needs its password file; pass password_file "
                                  "(a file holding only the password, mode 0600)")
            return ["--p12-file", str(self.p12), "--p12-password-file", str(self.password_file)]
        if not self.pem:
            raise ConfigError("a Developer ID identity needs a .p12 (with password file) or PEM files "
                              "with the private key and the certificate")
        return [arg for p in self.pem for arg in ("--pem-file", str(p))]

    def check(self) -> None:
        for path in filter(None, (self.p12, self.password_file, *self.pem)):
            if not Path(path).is_file():
                raise ConfigError(f"{path}: signing file not found; give the path of the release "
                                  "machine's Developer ID key/certificate")
            if Path(path).stat().st_mode & 0o077:
                raise ConfigError(f"{path}: readable by other users; chmod 600 it (it holds a signing secret)")


@dataclass
class Signed:
    app: Path
    seconds: float
    log: str


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise FarmError(f"{what} failed (exit {proc.returncode}):\n    {tail}")
    return proc.stdout + proc.stderr


def sign_args(identity: DeveloperId | None = None, *, signing_time: str | None = None,
              timestamp_url: str | None = None, nested: tuple[str, ...] = ("Contents/MacOS/tor",),
              entitlements: Path | None = None) -> list[str]:
    """`rcodesign sign` options: ad-hoc without identity; else Developer ID with hardened runtime
    on the main executable and on each `nested` program (notarization requires it on all)."""
    if identity is None:
        return []
    args = identity.args() + ["--code-signature-flags", "runtime"]
    for path in nested:
        args += ["--code-signature-flags", f"{path}:runtime"]
    if signing_time:
        args += ["--signing-time", signing_time]
    if timestamp_url:
        args += ["--timestamp-url", timestamp_url]
    if entitlements:
        args += ["--entitlements-xml-file", str(entitlements)]
    return args


def sign(rcodesign: Path, app: Path, dest: Path, identity: DeveloperId | None = None, **options) -> Signed:
    """Sign a copy of `app` at `dest` (see `sign_args` for options); FarmError if rcodesign fails."""
    dest = Path(dest)
    if dest.exists():
        raise ConfigError(f"{dest} exists; signing writes a fresh copy, remove it or choose another path")
    if identity is not None:
        identity.check()
    argv = [str(rcodesign), "sign", *sign_args(identity, **options)]
    with tempfile.TemporaryDirectory(prefix=".signing-", dir=dest.parent) as tmp:
        work = Path(tmp) / dest.name
        shutil.copytree(app, work, symlinks=True)
        started = time.monotonic()
        log = _run(argv + [str(work)], f"rcodesign sign {app.name}")
        seconds = time.monotonic() - started
        work.rename(dest)
    return Signed(dest, seconds, log)


def notarize(rcodesign: Path, app: Path, *, api_key: Path) -> str:
    """Submit `app` to Apple's notary service, wait, and staple the ticket; returns rcodesign's log.

    `api_key` is the JSON file `rcodesign encode-app-store-connect-api-key` makes from an
    App Store Connect API key. Needs Apple's servers: it cannot run in the farm's tests.
    """
    if not Path(api_key).is_file():
        raise ConfigError(f"{api_key}: App Store Connect API key not found; make it with "
                          "`rcodesign encode-app-store-connect-api-key -o key.json ISSUER KEY_ID AuthKey.p8`")
    return _run([str(rcodesign), "notary-submit", "--api-key-file", str(api_key), "--staple", str(app)],
                f"notarizing {app.name}")

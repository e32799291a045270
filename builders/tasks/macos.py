"""`invoke macos.sign` / `macos.verify`: Developer ID signing and notarization on the release machine.

The farm's `macapp` step makes an ad-hoc signed .app (no key needed). A release with an
Apple Developer ID re-signs a copy here, where the key is, with the farm-built rcodesign
(target linux-tools, built once and cached), and optionally notarizes and staples it.
"""
from __future__ import annotations

from pathlib import Path

from invoke import Collection, Exit, task

from .common import farm_errors, split_list


def _rcodesign(builder: str) -> Path:
    from ..build import Build
    from ..executors import get as get_executor
    from ..progress import PlainProgress
    from ..recipes import load_target

    target = load_target("linux-tools")
    executor = get_executor(builder, source_date_epoch=target.source_date_epoch)
    summary = Build(target, executor, outputs=["rcodesign"], progress=PlainProgress()).run()
    return Path(summary.outputs["rcodesign"]) / "bin" / "rcodesign"


@task(help={
    "app": "the .app to sign (e.g. the macapp step's output)",
    "dest": "where the signed copy goes (must not exist)",
    "p12": "Developer ID Application certificate + key as .p12 (mode 0600)",
    "p12_password_file": "file holding only the .p12's password (mode 0600)",
    "pem": "instead of --p12: PEM files with the key and the certificate, comma-separated",
    "entitlements": "entitlements plist for the main executable (default: none)",
    "signing_time": "RFC 3339 time to put in the signature (fixed: reproducible bytes with an RSA key)",
    "timestamp_url": "time-stamp server (default Apple's; 'none' offline, but notarization needs one)",
    "notary_key": "App Store Connect API key JSON (rcodesign encode-app-store-connect-api-key): "
                  "notarize and staple after signing",
    "builder": "where rcodesign is built if not cached: local (default) or ssh:NAME",
})
@farm_errors
def sign(c, app, dest, p12="", p12_password_file="", pem="", entitlements="", signing_time="",
         timestamp_url="", notary_key="", builder="local"):
    """Sign a copy of a .app: ad-hoc without a key, else Developer ID + hardened runtime (+ notarize)."""
    from ..bundle.macos.codesign import DeveloperId, notarize, sign as do_sign
    from ..bundle.macos.verify import verify_app

    identity = None
    if p12 or pem:
        identity = DeveloperId(p12=Path(p12) if p12 else None,
                               password_file=Path(p12_password_file) if p12_password_file else None,
                               pem=tuple(Path(p) for p in split_list(pem)))
    rcodesign = _rcodesign(builder)
    signed = do_sign(rcodesign, Path(app), Path(dest), identity, signing_time=signing_time or None,
                     timestamp_url=timestamp_url or None, entitlements=Path(entitlements) if entitlements else None)
    report = verify_app(signed.app)
    for problem in report.problems:
        print(f"problem: {problem}")
    if report.problems:  # never notarize, nor call signed, an app whose own check fails
        raise Exit(f"{signed.app}: {len(report.problems)} problem(s) after signing; see above", code=1)
    kind = "ad-hoc" if report.adhoc else f"Developer ID (team {report.team or '?'}), hardened runtime"
    print(f"signed {signed.app} ({kind}) in {signed.seconds:.1f}s; {report.sealed_files} files sealed")
    if notary_key:
        print(notarize(rcodesign, signed.app, api_key=Path(notary_key)))


@task(help={"app": "the .app to check"})
@farm_errors
def verify(c, app):
    """Check a signed .app's code pages, Info.plist and resource seal (ad-hoc or not); exit 1 on a problem."""
    from ..bundle.macos.verify import verify_app

    report = verify_app(Path(app))
    for problem in report.problems:
        print(f"problem: {problem}")
    if not report.ok:
        raise Exit(f"{app}: {len(report.problems)} problem(s)", code=1)
    kind = "ad-hoc" if report.adhoc else f"Developer ID (team {report.team or '?'})"
    print(f"{app}: {report.identifier}, {kind}, {report.sealed_files} files sealed: intact")


ns = Collection("macos", sign, verify)

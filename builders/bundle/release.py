"""`invoke release`: every app for every target the builder can make, SHA256SUMS, signature, report.

    release(apps=[Path("examples/chat")], key=FPR, gnupghome=None, dist=Path("release"))

The signing key is checked first (present, secret, able to sign: a probe signature is
made) and a ReleaseKeyError stops the release before any build starts; so does a `dist`
folder that is not empty (FarmError), because SHA256SUMS lists and the signature covers
exactly the files this release built. Outputs in `dist` (created if absent): the bundles, `SHA256SUMS`, `SHA256SUMS.asc` (detached, ASCII-armoured) and
`release-report.json` (what was built, for which target, on which builder, from which
input hashes and step keys).
"""
from __future__ import annotations

import json
import platform
import subprocess
import time
from pathlib import Path

from .. import paths
from ..errors import FarmError, ReleaseKeyError, ToolMissing
from ..executors import get as get_executor
from ..placement import executor_os
from .app_build import BUNDLES, SUMS, build_app, bundle_target, sha256_file, write_sums

REPORT = "release-report.json"


def signer(key: str, gnupghome: str | None = None):
    """A python-gnupg GPG able to sign with `key`; ReleaseKeyError saying why not otherwise."""
    import gnupg
    if not key:
        raise ReleaseKeyError("no release key given: pass --key FINGERPRINT (gpg --list-secret-keys shows it)")
    try:
        gpg = gnupg.GPG(gnupghome=gnupghome) if gnupghome else gnupg.GPG()
    except (OSError, ValueError) as exc:
        raise ToolMissing(f"gpg is needed to sign the release ({exc}); apt-get install gnupg") from exc
    where = gnupghome or "the default GnuPG home"
    found = gpg.list_keys(secret=True, keys=[key])
    if not found:
        raise ReleaseKeyError(f"release key {key} has no secret key in {where}: import it "
                              f"(gpg --import) or point --gnupghome at the keyring that holds it")
    info = found[0]
    if info.get("expires") and int(info["expires"]) < time.time():
        raise ReleaseKeyError(f"release key {key} expired; extend it (gpg --quick-set-expire) or name another")
    probe = gpg.sign("apaf release key probe", keyid=key, detach=True)
    if not probe or probe.status != "signature created":
        raise ReleaseKeyError(f"release key {key} in {where} cannot sign ({probe.status or probe.stderr.strip()[-200:]}); "
                              "it may be revoked, sign-incapable or need a passphrase no agent can give")
    return gpg


def check_empty(dist: Path) -> None:
    """FarmError unless dist is absent or an empty folder: a release signs only what it built.

    Refusing (rather than clearing the folder or skipping unknown names) keeps an
    earlier release's files, which may be the only copy, and keeps a stale bundle
    from ever sitting next to a fresh SHA256SUMS that does not vouch for it.
    """
    if not dist.exists():
        return
    if not dist.is_dir():
        raise FarmError(f"release folder {dist} is a file, not a folder: pass --dist NEW_FOLDER")
    found = sorted(p.name for p in dist.iterdir())
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise FarmError(f"release folder {dist} is not empty ({shown}); a release signs exactly what it "
                        f"builds, so it starts from an empty folder. Pass --dist NEW_FOLDER, or move the old "
                        f"files away first (mv {dist} {dist}.old); nothing was built or deleted")


def buildable_targets(builder: str) -> list[str]:
    """Targets with bundles whose toolchain this builder can make (others are named and skipped).

    Only targets of the builder's own OS: a macOS target also needs a Mac, which a
    release run with one builder does not have.
    """
    out = []
    for spec in sorted(BUNDLES.glob("*.toml")):
        try:
            target = bundle_target(spec.stem)
            if builder.split(":")[0] not in target.builders:
                continue
            executor = get_executor(builder, source_date_epoch=target.source_date_epoch)
            if target.os != executor_os(executor):
                continue
            executor.check(target)
        except ToolMissing:
            continue
        out.append(spec.stem)
    return out


def release(apps: list[Path], *, key: str, gnupghome: str | None = None, dist: Path,
            builder: str = "local", index_url: str = "", maintainer: str = "", progress=None) -> dict:
    gpg = signer(key, gnupghome)
    check_empty(dist)
    targets = buildable_targets(builder)
    if not targets:
        raise FarmError(f"builder {builder} can make none of the targets in {BUNDLES}; try --builder local")
    dist.mkdir(parents=True, exist_ok=True)
    started = time.time()
    builds = [build_app(app, t, dist=dist, builder=builder, progress=progress, index_url=index_url,
                        maintainer=maintainer) for app in apps for t in targets]
    sums = write_sums(dist, [p for b in builds for p in b.files.values()])
    signature = dist / f"{SUMS}.asc"
    with open(sums, "rb") as f:
        signed = gpg.sign_file(f, keyid=key, detach=True, output=str(signature))
    if not signature.is_file() or signed.status != "signature created":
        raise ReleaseKeyError(f"signing {sums} with {key} failed: {signed.status or signed.stderr.strip()[-200:]}")
    report = {
        "apps": [b.to_dict() for b in builds],
        "artifacts": {p.name: sha256_file(p) for b in builds for p in b.files.values()},
        "sha256sums": str(sums), "signature": str(signature), "key": key,
        "builder": builder, "host": platform.node(), "checkout": _commit(),
        "seconds": round(time.time() - started, 1),
    }
    (dist / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(paths.REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except OSError:
        return ""

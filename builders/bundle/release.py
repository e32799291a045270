"""`invoke release`: every app for every target, built by two builders that must agree, then signed.

    release([Path("examples/chat")], key=FPR, dist=Path("release"), builders=["local", "docker"],
            caches={"local": Path(...), "docker": Path(...)})

Order, each stage able to stop the release before anything is signed:
1. the signing key is checked (present, secret, able to sign: a probe signature) and
   `dist` must be absent or empty (ReleaseKeyError / FarmError before any build);
2. every app is built for every target on each builder, each with its own cache (a
   target a builder cannot make is built where it can be);
3. the sha256 of every output is compared across the builders that made it: any
   difference raises BuildersDisagree naming the artifacts, with both builders' files
   and a diffoscope report next to them in `dist`, and nothing is signed;
4. a CycloneDX SBOM per artifact, `release-report.json` (which builders agreed on which
   artifact), the in-toto/SLSA provenance; `SHA256SUMS` over all of them; detached
   signatures of SHA256SUMS and of the provenance.

One builder is allowed only when named explicitly (`builders=["local"]`); the report and
the provenance then say that nothing was cross-checked.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .. import paths
from ..errors import BuildersDisagree, ConfigError, FarmError, ReleaseKeyError, ToolMissing
from ..executors import get as get_executor
from ..placement import executor_os
from ..plan import steps_for
from ..release import compare, environment, provenance, sbom
from ..release.packages import packaged_program
from ..sources.manifest import load_manifest
from .app_build import BUNDLES, RUNTIME, TOOLS, build_app, bundle_target, sha256_file, write_sums

REPORT = "release-report.json"
PROVENANCE = provenance.FILE


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


def default_builders() -> list[str]:
    """Two builders that can work here: local and docker, else local and the inventory's first host."""
    from ..inventory import load_inventory
    found = ["local"]
    if buildable_targets("docker"):
        found.append("docker")
    try:
        found += [f"ssh:{name}" for name in load_inventory()]
    except FarmError:
        pass
    if len(found) < 2:
        raise ConfigError("a release is built by two builders that must agree, and only `local` can build here "
                          "(the docker builder needs `ci/farm images.build`; ssh builders an entry in "
                          "ci/builders.toml). Fix one of those, or pass --builders local to release from one "
                          "builder with nothing cross-checked (recorded in the report)")
    return found[:2]


def _environments(builders: list[str], targets: list[str]) -> dict[str, dict]:
    envs = {}
    for name in builders:
        packages, identity = {}, []
        for t in targets:
            tgt = bundle_target(t, check_tools=False)
            executor = get_executor(name, source_date_epoch=tgt.source_date_epoch)
            try:
                identity.append(executor.identity(tgt))
                packages = packages or environment.debian_packages(executor, tgt)
            except FarmError:
                continue
        envs[name] = {"identity": " ".join(identity), "packages": packages}
    return envs


def _sources_of(target: str, kind: str) -> list:
    manifest = load_manifest()
    names = sorted({s for step in steps_for(bundle_target(target, check_tools=False), [kind])
                    for s in step.recipe.sources})
    return [manifest[n] for n in names]


def _locks(app: str) -> dict[str, Path]:
    locks = {"tools": TOOLS / "tools.lock", "runtime": RUNTIME / "requirements.lock"}
    app_lock = Path(app) / "requirements.lock"
    if app_lock.is_file():
        locks["app"] = app_lock
    return locks


def release(apps: list[Path], *, key: str, gnupghome: str | None = None, dist: Path,
            builders: list[str] | None = None, caches: dict[str, Path] | None = None,
            index_url: str = "", maintainer: str = "", progress=None, builder: str | None = None) -> dict:
    gpg = signer(key, gnupghome)
    check_empty(dist)
    names = builders or ([builder] if builder else default_builders())
    if len(set(names)) != len(names):
        raise ConfigError(f"--builders names a builder twice ({','.join(names)}): name two different builders")
    caches = caches or {}
    unknown = sorted(set(caches) - set(names))
    if unknown:
        raise ConfigError(f"--caches names {', '.join(unknown)}, which is not one of --builders {','.join(names)}")
    plan = {b: buildable_targets(b) for b in names}
    idle = [b for b, ts in plan.items() if not ts]
    if idle and len(names) > 1:
        raise ConfigError(f"builder {', '.join(idle)} can make none of the targets here (for docker: "
                          "`ci/farm images.build`; for ssh: its inventory entry and `ci/farm toolchain --builder "
                          "ssh:NAME` to see what it lacks), so nothing it should cross-check would be; fix it or "
                          "name other --builders")
    targets = sorted({t for ts in plan.values() for t in ts})
    if not targets:
        raise FarmError(f"none of the builders {', '.join(names)} can make a target in {BUNDLES}; try --builders local")
    started = time.time()
    dist.parent.mkdir(parents=True, exist_ok=True)
    builds, files = [], {}
    with tempfile.TemporaryDirectory(prefix=".apaf-release-", dir=dist.parent) as work:
        for b in names:
            files[b] = {}
            for app in apps:
                for t in plan[b]:
                    result = build_app(app, t, dist=Path(work) / b, builder=b, cache_root=caches.get(b),
                                       progress=progress, index_url=index_url, maintainer=maintainer)
                    builds.append((b, app, result))
                    files[b].update({p.name: p for p in result.files.values()})
        digests = compare.digests(files)
        differ = {n: d for n, d in digests.items() if len(set(d.values())) > 1}
        dist.mkdir(parents=True, exist_ok=True)
        if differ:
            _report_disagreement(dist, differ, files)
        for name, by in digests.items():
            shutil.copyfile(files[next(iter(by))][name], dist / name)
            (dist / name).chmod(files[next(iter(by))][name].stat().st_mode & 0o777)
    agreed = {n: sorted(d) for n, d in digests.items()}
    artifacts = {n: next(iter(d.values())) for n, d in sorted(digests.items())}
    envs = _environments(names, targets)
    sboms = _write_sboms(dist, builds, artifacts, agreed, envs, started)
    commit, dirty = _commit()
    report = {
        "apps": [dict(r.to_dict(), builder=b, files={k: Path(v).name for k, v in r.files.items()})
                 for b, _, r in builds],
        "artifacts": artifacts, "sboms": sboms, "agreed": agreed,
        "builders": {b: {"identity": envs[b]["identity"], "targets": plan[b]} for b in names},
        "cross_checked": all(len(by) > 1 for by in agreed.values()),
        "single_builder": names[0] if len(names) == 1 else None,
        "key": key, "checkout": commit, "uncommitted": dirty,
        "seconds": round(time.time() - started, 1),
    }
    (dist / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    finished = time.time()
    subjects = {**artifacts, **{n: sha256_file(dist / n) for n in sboms.values()}}
    manifest = load_manifest()
    used = sorted({s.name for t in targets for k in bundle_target(t, check_tools=False).outputs
                   for s in _sources_of(t, k)})
    doc = provenance.statement(
        subjects=subjects, commit=commit, dirty=dirty, apps=[_in_repo(a) for a in apps], targets=targets,
        builders={b: {"identity": envs[b]["identity"]} for b in names},
        builds=[{"builder": b, "app": r.app, "target": r.target, "inputs": r.inputs,
                 "steps": [{"id": s.id, "key": s.key, "status": s.status} for s in r.summary.steps]}
                for b, _, r in builds],
        sources={n: {"url": manifest[n].upstream or f"debian:{manifest[n].debian.package}/{manifest[n].debian.file}",
                     "sha256": manifest[n].sha256} for n in used},
        locks={str(p.relative_to(paths.REPO)) if p.is_relative_to(paths.REPO) else str(p): sha256_file(p)
               for a in apps for p in _locks(str(a)).values()},
        agreed=agreed, source_date_epoch=bundle_target(targets[0], check_tools=False).source_date_epoch,
        started=started, finished=finished)
    (dist / PROVENANCE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    listed = [dist / n for n in artifacts] + [dist / n for n in sboms.values()] + [dist / REPORT, dist / PROVENANCE]
    sums = write_sums(dist, listed)
    for signed_file in (sums, dist / PROVENANCE):
        _sign(gpg, key, signed_file)
    report.update(sha256sums=str(sums), signature=str(sums) + ".asc", provenance=str(dist / PROVENANCE))
    return report


def _sign(gpg, key: str, path: Path) -> None:
    signature = path.with_name(path.name + ".asc")
    with open(path, "rb") as f:
        signed = gpg.sign_file(f, keyid=key, detach=True, output=str(signature))
    if not signature.is_file() or signed.status != "signature created":
        raise ReleaseKeyError(f"signing {path} with {key} failed: {signed.status or signed.stderr.strip()[-200:]}")


def _write_sboms(dist: Path, builds, artifacts: dict[str, str], agreed: dict[str, list[str]], envs: dict,
                 started: float) -> dict[str, str]:
    """{artifact: its SBOM's file name}; each SBOM validated against the CycloneDX 1.6 schema."""
    out = {}
    for b, app, r in builds:
        static = r.files.get("static")
        for kind, path in r.files.items():
            name = path.name
            if name in out:
                continue
            inside = None
            if kind in ("deb", "rpm"):
                inside = sha256_bytes(packaged_program(dist / name, r.app))
                if static is not None and inside != artifacts[static.name]:
                    raise FarmError(f"{name} installs a program whose sha256 ({inside}) is not the static "
                                    f"bundle's {static.name} ({artifacts[static.name]}): the packaging step "
                                    f"did not package the bundle it was given")
            wheels = next((Path(s.out) for s in r.summary.steps if s.id.startswith("wheels@")), None)
            tools = environment.build_tools(envs[b]["packages"], TOOLS / "tools.lock")
            doc = sbom.bom(artifact=dist / name, sha256=artifacts[name], app=r.app, version=r.version,
                           target=r.target, kind=kind, sources=_sources_of(r.target, kind), locks=_locks(str(app)),
                           licences=sbom.wheel_licences(wheels), tools=tools,
                           builders={x: envs[x] for x in agreed[name]}, inside_sha256=inside, timestamp=started)
            out[name] = name + sbom.SUFFIX
            (dist / out[name]).write_text(sbom.to_json(doc))
    return out


def sha256_bytes(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def _report_disagreement(dist: Path, differ: dict[str, dict[str, str]], files: dict[str, dict[str, Path]]) -> None:
    """Both builders' copies and a diffoscope report per differing artifact in dist; then stop."""
    lines, report = [], {"status": "builders disagree: nothing was signed", "differ": differ}
    for name, by in sorted(differ.items()):
        kept = []
        for b in by:
            folder = dist / b.replace(":", "-")
            folder.mkdir(exist_ok=True)
            shutil.copyfile(files[b][name], folder / name)
            kept.append(folder / name)
        text = compare.diffoscope(kept[0], kept[1], dist / (name + compare.REPORT_SUFFIX))
        report.setdefault("diffoscope", {})[name] = text.name
        lines.append(f"  {name}: " + ", ".join(f"{b} {d[:16]}" for b, d in by.items()) + f" (diffoscope: {text})")
    (dist / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    raise BuildersDisagree("the builders made different bytes, so nothing was signed:\n" + "\n".join(lines) +
                           f"\n  both copies are in {dist}/<builder>/; fix the step that differs, then release "
                           "into an empty folder again")


def _in_repo(app: Path) -> str:
    """The app folder as a path inside the checkout (what a rebuild finds in the commit's tree)."""
    full = Path(app).resolve()
    return str(full.relative_to(paths.REPO)) if full.is_relative_to(paths.REPO) else str(app)


def _commit() -> tuple[str, list[str]]:
    """(HEAD's commit, the paths with uncommitted changes) of this checkout ("" and [] outside git)."""
    try:
        head = subprocess.run(["git", "-C", str(paths.REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "-C", str(paths.REPO), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return "", []
    return head, sorted(line[3:] for line in status.splitlines() if line.strip())

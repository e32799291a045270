"""Build one app for one target: check locks, hand the steps their inputs, collect dist/ files.

    result = build_app(Path("examples/chat"), "linux-x86_64", dist=Path("dist"))
    result.files   # {"static": dist/chat-1.0.0-linux-x86_64, "deb": ..., "rpm": ...}

Inputs the steps see: `app` (the app directory), `runtime` (runtime/), `requirements`
(the runtime's and the app's locks only, so app code changes do not refetch wheels)
and `package` (deb/rpm metadata rendered from apaf.toml). Bad manifests, stale locks and
unknown targets raise ConfigError before any step runs.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..build import Build, Summary
from ..errors import ConfigError, ToolMissing
from ..executors import get as get_executor
from ..progress import PlainProgress
from ..recipes import Target, load_target
from ..sources.verify import sha256_of as sha256_file
from ..trees import tree_digest
from . import deb, oslocks, rpm
from .binaries import freeze_deps
from .desktop import PackageInfo
from .lock import check_lock, read_requirements
from .macos.dmg import stage_writer
from .pipconf import network_env

RUNTIME = paths.REPO / "runtime"
TOOLS = paths.RECIPES / "wheels"
BUNDLES = paths.TOOLCHAINS / "bundles"
SUMS = "SHA256SUMS"


def lock_fix(app_dir: Path | None = None) -> str:
    return "ci/farm lock" + (f" --app {app_dir}" if app_dir else "")


@dataclass
class AppBuild:
    app: str
    version: str
    target: str
    files: dict[str, Path] = field(default_factory=dict)       # output kind -> file in dist
    inputs: dict[str, str] = field(default_factory=dict)       # input folder -> content sha256
    summary: Summary | None = None

    def to_dict(self) -> dict:
        return {"app": self.app, "version": self.version, "target": self.target,
                "files": {k: str(v) for k, v in self.files.items()}, "inputs": self.inputs,
                "build": self.summary.to_dict() if self.summary else None}


def load_app(app_dir: Path):
    from apaf.errors import ManifestError
    from apaf.manifest import load_manifest
    try:
        return load_manifest(app_dir)
    except ManifestError as exc:
        raise ConfigError(str(exc)) from None


def check_locks(manifest, target_os: str = "linux") -> None:
    """ConfigError naming the lock to (re)make when a requirement list and its lock disagree."""
    check_lock(TOOLS / "tools.lock", read_requirements(TOOLS / "tools.in"), lock_fix())
    runtime_lock = RUNTIME / "requirements.lock"
    check_lock(runtime_lock, read_requirements(RUNTIME / "requirements.in"), lock_fix())
    if manifest.dependencies:
        check_lock(manifest.app_dir / "requirements.lock", list(manifest.dependencies),
                   lock_fix(manifest.app_dir), constraints=runtime_lock)
    if target_os == "macos":
        oslocks.check(manifest, lock_fix)


def bundle_target(name: str, check_tools: bool = True) -> Target:
    """The target with its outputs replaced by toolchains/bundles/<name>.toml's (same step keys
    for the toolchain); ToolMissing if a packaging program is absent (unless not check_tools)."""
    target = load_target(name)
    spec = BUNDLES / f"{name}.toml"
    if not spec.is_file():
        known = ", ".join(sorted(p.stem for p in BUNDLES.glob("*.toml")))
        raise ConfigError(f"target {name} makes no app bundles yet ({spec} is missing); bundles exist for: {known}")
    data = tomllib.loads(spec.read_text())
    missing = [t for t in data.get("tools", []) if check_tools and not shutil.which(t)]
    if missing:
        raise ToolMissing(f"bundles for {name} need {', '.join(missing)}: "
                          f"apt-get install -y {' '.join(data.get('packages', []))} patchelf binutils libc-bin")
    for recipe, tc in data["outputs"].items():
        if tc not in target.toolchains:
            raise ConfigError(f"{spec}: [outputs].{recipe} uses toolchain '{tc}', which {target.path} does not define")
    return dataclasses.replace(target, outputs=dict(data["outputs"]))


def _stop_at(target: Target, names: list[str]) -> Target:
    """target making only the named steps of its bundle (same toolchains, hence the same keys)."""
    from ..plan import steps_for
    built = {s.recipe.name: s.toolchain for s in steps_for(target)}
    unknown = [n for n in names if n not in built]
    if unknown:
        raise ConfigError(f"--only {','.join(unknown)}: not a step of {target.name}'s bundle; its steps: "
                          f"{', '.join(built)}")
    return dataclasses.replace(target, outputs={n: built[n] for n in names})


def stage_inputs(manifest, info: PackageInfo, root: Path, epoch: int, target: Target | None = None) -> dict[str, Path]:
    req = root / "requirements"
    req.mkdir(parents=True)
    shutil.copyfile(RUNTIME / "requirements.lock", req / "runtime.lock")
    if manifest.dependencies:
        shutil.copyfile(manifest.app_dir / "requirements.lock", req / "app.lock")
    pkg = root / "package"
    pkg.mkdir()
    (pkg / "meta.env").write_text(info.meta_env())
    (pkg / f"{info.name}.desktop").write_text(info.desktop_entry())
    if info.icon:
        shutil.copyfile(info.icon, pkg / "icon.png")
    deb.render(info, pkg, epoch)
    rpm.render(info, pkg, epoch)
    if target is not None and target.os == "macos":
        # Only for macOS targets: a new folder in `package` would change every Linux deb/rpm key.
        from .macos.app import minimum_macos, render as render_macos
        render_macos(manifest, pkg, minimum_macos(target))
        oslocks.stage(manifest, req)
    # The .dmg step's writer and libraries (declared only by toolchains/recipes/dmg).
    writer = stage_writer(root / "dmgwriter")
    return {"app": manifest.app_dir, "runtime": RUNTIME, "requirements": req, "package": pkg,
            "dmgwriter": writer}


def dist_names(info: PackageInfo, target: str) -> dict[str, str]:
    return {"static": f"{info.name}-{info.version}-{target}",
            "dmg": f"{info.name}-{info.version}-{target}.dmg",
            "deb": f"{info.name}_{info.version}_amd64.deb",
            "rpm": f"{info.name}-{rpm.rpm_version(info.version)}-1.x86_64.rpm"}


def build_app(app_dir: Path, target: str = "linux-x86_64", *, dist: Path, builder: str = "local",
              cache_root: Path | None = None, progress=None, index_url: str = "", maintainer: str = "",
              parallel: int | None = None, linux_builder: str = "local",
              only: list[str] | None = None) -> AppBuild:
    """Build app_dir for target; steps run on builder, those pinned to Linux (a macOS target's
    signing and .dmg) on linux_builder. only: stop at these outputs (e.g. ["freeze"] on a Mac
    CI runner, which has no Linux builder for the rest)."""
    manifest = load_app(Path(app_dir))
    # With --only the packaging steps may not run at all (a Mac CI runner stopping at freeze).
    tgt = bundle_target(target, check_tools=not only)
    if only:
        tgt = _stop_at(tgt, only)
    info = PackageInfo.from_manifest(manifest, maintainer)
    check_locks(manifest, tgt.os)
    extra_deps = freeze_deps(manifest, tgt.name)
    executor = get_executor(builder, source_date_epoch=tgt.source_date_epoch)
    others = [get_executor(linux_builder, source_date_epoch=tgt.source_date_epoch)] if tgt.os != "linux" else []
    root = cache_root or paths.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    result = AppBuild(manifest.name, manifest.version, tgt.name)
    with tempfile.TemporaryDirectory(prefix="inputs-", dir=root) as tmp:
        inputs = stage_inputs(manifest, info, Path(tmp), tgt.source_date_epoch, tgt)
        result.inputs = {k: tree_digest(v) for k, v in sorted(inputs.items())}
        build = Build(tgt, executor, cache_root=root, progress=progress or PlainProgress(),
                      inputs=inputs, network_env=network_env(index_url), parallel=parallel, others=others,
                      extra_deps=extra_deps)
        result.summary = build.run()
    dist.mkdir(parents=True, exist_ok=True)
    for kind, name in dist_names(info, tgt.name).items():
        if kind not in result.summary.outputs:
            continue
        out = Path(result.summary.outputs[kind])
        produced = sorted(p for p in out.iterdir() if p.is_file())
        if len(produced) != 1:
            raise ConfigError(f"step {kind} produced {len(produced)} files, expected one: {out}")
        dest = dist / name
        tmp_dest = dest.with_name(f".{name}.tmp")
        shutil.copyfile(produced[0], tmp_dest)
        tmp_dest.chmod(0o755 if kind == "static" else 0o644)
        tmp_dest.replace(dest)
        result.files[kind] = dest
    write_sums(dist)
    return result


def write_sums(dist: Path, files: list[Path] | None = None) -> Path:
    """SHA256SUMS over `files` (default: every artifact in dist, not itself, signatures or reports), sorted.

    A release passes the files it built, so nothing else lying in dist is ever listed.
    """
    skip = (SUMS, ".asc", ".json", ".md")
    if files is None:
        files = [p for p in dist.iterdir() if p.is_file() and not p.name.startswith(".")
                 and not p.name.endswith(skip) and not p.name.startswith(SUMS)]
    files = sorted(files, key=lambda p: p.name)
    sums = dist / SUMS
    tmp = dist / f".{SUMS}.tmp"
    tmp.write_text("".join(f"{sha256_file(p)}  {p.name}\n" for p in files))
    tmp.replace(sums)
    return sums

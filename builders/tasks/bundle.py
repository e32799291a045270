"""`invoke build` (an app directory -> dist/) and `invoke lock` (hash-pinned requirements)."""
from __future__ import annotations

from pathlib import Path

from invoke import task

from .common import farm_errors, print_json, split_list

DEFAULT_APP = "examples/chat"


@task(
    help={
        "app": f"the app directory (holds apaf.toml); default {DEFAULT_APP}",
        "target": "target to build for (toolchains/bundles/*.toml); default linux-x86_64",
        "builder": "where steps run: local (default), docker, ssh:NAME (for a macOS target: a Mac, "
                   "ssh:NAME with os = \"macos\" in the inventory, or local on a Mac)",
        "only": "stop at these steps, comma-separated (e.g. freeze: the unsigned macOS .app, on a Mac alone)",
        "linux_builder": "where a macOS target's Linux steps (signing, .dmg) run: local (default), docker, ssh:NAME",
        "dist": "folder for the results and SHA256SUMS (default dist/)",
        "index_url": "Python package index for the wheels step (default: this machine's pip config)",
        "maintainer": "packager for the .deb/.rpm, 'Name <address>' (default: [app].maintainer of apaf.toml)",
        "parallel": "how many steps may run at once (default: number of cores)",
        "json": "print a machine-readable summary on stdout (progress goes to stderr)",
    }
)
@farm_errors
def build(c, app=DEFAULT_APP, target="linux-x86_64", builder="local", dist="dist", index_url="",
          maintainer="", parallel=0, json=False, linux_builder="local", only=""):
    """Bundle an app: one static executable, a .deb and an .rpm in dist/, with SHA256SUMS.

    Runs the toolchain (cached) and the steps wheels, freeze, static, deb, rpm;
    steps whose inputs did not change are not run again.
    """
    from ..bundle.app_build import build_app
    from ..progress import make_progress

    progress = make_progress(live=None if not json else False)
    result = build_app(Path(app), target, dist=Path(dist), builder=builder, progress=progress,
                       index_url=index_url, maintainer=maintainer, parallel=parallel or None,
                       linux_builder=linux_builder, only=split_list(only) or None)
    if json:
        print_json(result.to_dict())
        return
    s = result.summary
    print(f"{result.app} {result.version} for {result.target}: built {', '.join(s.built) or 'nothing (all cached)'} "
          f"in {s.wall_seconds:.1f}s wall")
    for kind, path in result.files.items():
        print(f"  {kind:6} {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"  sums   {Path(dist) / 'SHA256SUMS'}")


@task(
    help={
        "app": "also lock this app's [app].dependencies into <app>/requirements.lock",
        "target": "whose CPython resolves the requirements (default linux-x86_64)",
        "index_url": "Python package index (default: this machine's pip config)",
    }
)
@farm_errors
def lock(c, app="", target="linux-x86_64", index_url=""):
    """Pin the farm's tools, the runtime's and (with --app) an app's requirements, with hashes.

    Resolves with the target's own CPython (built first if needed, cached), so
    the pins are those of the target's Python version and platform.
    """
    from ..bundle.locking import lock_all
    from ..progress import make_progress

    for path, versions in lock_all(Path(app) if app else None, target, index_url=index_url,
                                   progress=make_progress()).items():
        print(f"{path}: {len(versions)} packages")

"""`ci/farm lock`: (re)make the tools, runtime and app locks with the target's built CPython.

The CPython comes from the toolchain build (cached); each lock is remade only if its
requirements changed, so running it again is cheap and leaves files untouched.
"""
from __future__ import annotations

from pathlib import Path

from ..build import Build
from ..errors import ConfigError
from ..executors import get as get_executor
from ..recipes import load_target
from .app_build import RUNTIME, TOOLS, load_app
from . import oslocks
from .lock import check_lock, read_requirements, write_lock
from .pipconf import network_env


def target_python(target: str, progress) -> Path:
    tgt = load_target(target)
    executor = get_executor("local", source_date_epoch=tgt.source_date_epoch)
    summary = Build(tgt, executor, outputs=["cpython"], progress=progress).run()
    return Path(summary.outputs["cpython"]) / "bin" / "python3.13"


def lock_all(app_dir: Path | None, target: str = "linux-x86_64", *, index_url: str = "",
             progress=None) -> dict[Path, dict[str, str]]:
    manifest = load_app(app_dir) if app_dir else None
    if manifest is not None and not manifest.dependencies:
        raise ConfigError(f"{manifest.path}: [app].dependencies is empty, so there is nothing to lock "
                          "(what the runtime brings is locked in runtime/requirements.lock)")
    python = target_python(target, progress)
    env = network_env(index_url)
    jobs = [(TOOLS / "tools.lock", read_requirements(TOOLS / "tools.in"), None),
            (RUNTIME / "requirements.lock", read_requirements(RUNTIME / "requirements.in"), None)]
    if manifest is not None:
        jobs.append((manifest.app_dir / "requirements.lock", list(manifest.dependencies),
                     RUNTIME / "requirements.lock"))
    done = {}
    for lock, reqs, constraints in jobs:
        try:
            check_lock(lock, reqs, "", constraints)
            progress.note(f"{lock}: up to date")
            continue
        except ConfigError:
            pass
        done[lock] = write_lock(python, reqs, lock, constraints=constraints,
                                exclude_constrained=constraints is not None, env=env, log=progress.note)
    # The macOS locks follow the Linux ones (same pins, the macOS files' hashes).
    done.update(oslocks.write(python, manifest, env, progress.note))
    return done

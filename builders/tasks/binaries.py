"""`invoke binaries`: build the third-party programs apps may bundle and copy them to a folder."""
from __future__ import annotations

import shutil
from pathlib import Path

from invoke import task

from ..errors import ConfigError
from .common import farm_errors, print_json, split_list


@task(
    help={
        "dest": "folder to copy the programs into (e.g. for APAF_BINARIES=DIR in the dev tree)",
        "only": "these programs, comma-separated (default: all the target knows, e.g. gpg,7zz)",
        "target": "target to build them for (toolchains/bundles/*.toml [binaries]); default linux-x86_64",
        "builder": "where steps run: local (default), docker, ssh:NAME",
        "json": "print a machine-readable summary on stdout (progress goes to stderr)",
    }
)
@farm_errors
def binaries(c, dest="", only="", target="linux-x86_64", builder="local", json=False):
    """Build the programs an app may list in extra_binaries (gpg, 7zz) from pinned sources.

    The same cached steps a bundle uses; with --dest the programs are copied there, so an app
    run from the dev tree finds them through APAF_BINARIES=DEST.
    """
    from apaf.binaries import PROGRAMS
    from ..build import Build
    from ..bundle.binaries import binaries_target, binary_steps
    from ..executors import get as get_executor
    from ..progress import make_progress

    names = split_list(only) or sorted(binary_steps(target))
    unknown = [n for n in names if n not in PROGRAMS]
    if unknown:
        raise ConfigError(f"--only {','.join(unknown)}: not a program apps may list; known: {', '.join(sorted(PROGRAMS))}")
    tgt = binaries_target(target, names)
    build = Build(tgt, get_executor(builder, source_date_epoch=tgt.source_date_epoch),
                  progress=make_progress(live=None if not json else False))
    summary = build.run()
    copied = {}
    if dest:
        out = Path(dest)
        out.mkdir(parents=True, exist_ok=True)
        steps = binary_steps(target)
        for name in names:
            built = Path(summary.outputs[steps[name].partition("@")[0]]) / "bin"
            for f in PROGRAMS[name].files:
                shutil.copy2(built / f, out / f)
                copied[f] = str(out / f)
    if json:
        print_json({**summary.to_dict(), "copied": copied})
        return
    print(f"{', '.join(names)} for {target}: built {', '.join(summary.built) or 'nothing (all cached)'} "
          f"in {summary.wall_seconds:.1f}s wall, {summary.cpu_seconds:.1f}s CPU")
    for f, path in copied.items():
        print(f"  {f}: {path}")
    if dest:
        print(f"run apps from the dev tree with APAF_BINARIES={Path(dest).absolute()}")

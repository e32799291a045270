"""`invoke toolchain`: build a target's toolchain (tor and CPython) from pinned sources."""
from __future__ import annotations

from invoke import task

from .common import farm_errors, print_json, split_list


@task(
    help={
        "target": "target(s) to build, comma-separated (toolchains/targets/*.toml); default linux-x86_64",
        "builder": "where steps run: local (default), docker, ssh:NAME; several comma-separated, or `auto` "
                   "(local, docker and the SSH inventory), spread the targets over those that can build them",
        "only": "build only these outputs of the target, comma-separated (e.g. tor)",
        "parallel": "how many steps may run at once (default: number of cores)",
        "json": "print a machine-readable summary on stdout (progress goes to stderr)",
        "debian_mirror": "Debian archive URL for source tarballs (default: from this machine's apt sources)",
    }
)
@farm_errors
def toolchain(c, target="linux-x86_64", builder="local", only="", parallel=0, json=False, debian_mirror=""):
    """Build tor and CPython for a target from pinned, verified sources (cached steps).

    Steps whose inputs did not change are not run again; each step's full log is
    kept in the cache (see `ci/farm cache.info`).
    """
    from ..build import Build
    from ..progress import for_target, make_progress
    from ..recipes import load_target
    from ..sources import SourceStore
    from ..spread import build_all

    progress = make_progress(live=None if not json else False)

    targets = [load_target(name) for name in split_list(target)]

    def make_build(tgt, executor):
        view = for_target(progress, tgt.name, several=len(targets) > 1)
        store = SourceStore(debian_mirror=debian_mirror or None, log=view.note)
        return Build(tgt, executor, outputs=split_list(only) or None, parallel=parallel or None,
                     progress=view, store=store)

    summaries = build_all(targets, split_list(builder), make_build)
    for tgt, summary in zip(targets, summaries):
        if not json:
            built = ", ".join(summary.built) or "nothing (all cached)"
            print(f"{tgt.name} on {summary.executor}: built {built} in {summary.wall_seconds:.1f}s wall, "
                  f"{summary.cpu_seconds:.1f}s CPU")
            for out, path in summary.outputs.items():
                print(f"  {out}: {path}")
    if json:
        print_json([s.to_dict() for s in summaries] if len(summaries) > 1 else summaries[0].to_dict())

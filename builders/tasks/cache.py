"""`invoke cache.*`: what the step cache holds, and pruning it."""
from __future__ import annotations

from invoke import Collection, task

from .. import paths
from .common import farm_errors, print_json


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


@task(help={"json": "print as JSON"})
@farm_errors
def info(c, json=False):
    """Show the cache root, each cached step (target, executor, build time, size) and totals."""
    from ..cache import StepCache, dir_size
    cache = StepCache()
    rows = []
    for e in cache.entries():
        m = e.meta()
        rows.append({"key": e.key, "step": m.get("step"), "target": m.get("target"),
                     "executor": m.get("executor"), "seconds": m.get("seconds"),
                     "bytes": dir_size(e.path), "log": str(e.log)})
    sources = paths.cache_root() / "sources"
    data = {"root": str(paths.cache_root()), "steps": rows,
            "steps_bytes": sum(r["bytes"] for r in rows),
            "sources_bytes": dir_size(sources) if sources.exists() else 0,
            "stale_temp_dirs": len(cache.stale_temps())}
    if json:
        print_json(data)
        return
    print(f"cache root: {data['root']}")
    for r in rows:
        print(f"  {r['key'][:12]}  {r['step']:<20} {r['target']:<16} {r['executor']:<8} "
              f"{r['seconds'] or 0:7.1f}s  {_human(r['bytes'])}")
    print(f"{len(rows)} steps, {_human(data['steps_bytes'])}; sources {_human(data['sources_bytes'])}; "
          f"{data['stale_temp_dirs']} unfinished temp dirs")


@task(help={"older_than": "remove steps not used for this many days",
            "all": "remove every cached step (sources are kept)"})
@farm_errors
def prune(c, older_than=-1.0, all=False):
    """Remove unfinished temp dirs, and cached steps that are old (--older-than DAYS) or all (--all)."""
    from ..cache import StepCache
    n, freed = StepCache().prune(older_than_days=older_than if older_than >= 0 else None, everything=all)
    print(f"removed {n} entries, freed {_human(freed)}")


ns = Collection("cache", info, prune)

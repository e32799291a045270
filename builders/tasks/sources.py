"""`invoke sources.*`: fetch, verify and re-pin the tarballs in tor-src/sources.toml."""
from __future__ import annotations

from invoke import Collection, task

from .common import farm_errors, print_json, split_list


def _names(only: str) -> list[str]:
    from ..sources.manifest import load_manifest
    return split_list(only) or list(load_manifest())


@task(help={"only": "comma-separated source names (default: all)",
            "debian_mirror": "Debian archive URL (default: from this machine's apt sources)",
            "json": "print what was fetched as JSON"})
@farm_errors
def fetch(c, only="", debian_mirror="", json=False):
    """Download every pinned source not yet in the cache, verifying sha256 and signatures."""
    from ..sources import SourceStore
    store = SourceStore(debian_mirror=debian_mirror or None)
    got = {}
    for name in _names(only):
        f = store.fetch(name)
        got[name] = {"file": str(f.path), "sha256": f.sha256, "signer": f.signer}
        if not json:
            how = f"signed by {f.signer}" if f.signer else "sha256 only (" + \
                store.manifest[name].signature.reason.split(';')[0] + ")"
            print(f"ok  {name} {f.source.version}  {f.path.name}  {how}")
    if json:
        print_json(got)


@task(help={"only": "comma-separated source names (default: all)"})
@farm_errors
def verify(c, only=""):
    """Re-check every cached source against its pin; fails on any mismatch or bad signature."""
    from ..sources import SourceStore
    store = SourceStore()
    missing = []
    for name in _names(only):
        f = store.cached(store.manifest[name], recheck=True)
        if f is None:
            missing.append(name)
            print(f"--  {name}: not fetched yet")
        else:
            print(f"ok  {name} {f.source.version}  {f.path.name}")
    if missing:
        print(f"run `ci/farm sources.fetch --only {','.join(missing)}` to fetch the rest")


@task(help={"name": "source to re-pin (a [section] of tor-src/sources.toml)",
            "version": "the new version",
            "debian_mirror": "Debian archive URL (default: from this machine's apt sources)",
            "accept_debian_difference": "REASON Debian's tarball may have other bytes than upstream's "
                                        "(recorded in the entry as debian.differs); without it a difference stops"})
@farm_errors
def update(c, name, version, debian_mirror="", accept_debian_difference=""):
    """Re-pin NAME to VERSION: download it from its mirrors, check its signature, write the hashes."""
    from ..sources.update import repin
    for line in repin(name, version, debian_mirror=debian_mirror or None,
                      accept_debian_difference=accept_debian_difference):
        print(line)


ns = Collection("sources", fetch, verify, update)

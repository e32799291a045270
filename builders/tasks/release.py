"""`invoke release`, `invoke verify`, `invoke rebuild`: builders that agree, signed; checked by anyone."""
from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from ..errors import ConfigError
from ..progress import make_progress
from .bundle import DEFAULT_APP
from .common import farm_errors, print_json, split_list


def _caches(value: str) -> dict[str, Path]:
    out = {}
    for item in split_list(value):
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise ConfigError(f"--caches takes BUILDER=FOLDER pairs, comma-separated (local=/a,docker=/b), got {item!r}")
        out[name] = Path(folder)
    return out


@task(
    help={
        "app": f"app directories to release, comma-separated (default {DEFAULT_APP})",
        "key": "fingerprint of the release signing key (checked before anything is built)",
        "gnupghome": "GnuPG home holding the release key (default: gpg's own)",
        "builders": "two or more builders that must make the same bytes: local,docker,ssh:NAME (default: a pair "
                    "that works here); one builder only when named alone, recorded as not cross-checked",
        "caches": "each builder's own step cache, BUILDER=FOLDER,... (default: $APAF_CACHE for all)",
        "dist": "output folder (default release/): absent or empty, since exactly what is built is signed",
        "index_url": "Python package index for the wheels step (default: this machine's pip config)",
        "maintainer": "packager for the .deb/.rpm, 'Name <address>'",
        "json": "print the release report on stdout",
    }
)
@farm_errors
def release(c, key="", app=DEFAULT_APP, gnupghome="", builders="", caches="", dist="release", index_url="",
            maintainer="", json=False):
    """Build every app for every target on two builders, compare, then SBOMs, provenance, SHA256SUMS, signatures."""
    from ..bundle.release import REPORT, release as do_release

    report = do_release([Path(a) for a in split_list(app)], key=key, gnupghome=gnupghome or None,
                        dist=Path(dist), builders=split_list(builders) or None, caches=_caches(caches),
                        index_url=index_url, maintainer=maintainer,
                        progress=make_progress(live=None if not json else False))
    if json:
        print_json(report)
        return
    for name, digest in sorted(report["artifacts"].items()):
        print(f"{digest}  {name}  (same bytes from: {', '.join(report['agreed'][name])})")
    if not report["cross_checked"]:
        print(f"built by {report['single_builder']} alone: nothing was cross-checked (recorded in the report)")
    print(f"signed {report['sha256sums']} and {report['provenance']} with {key}; report: {Path(dist) / REPORT}")


@task(help={"dir": "the release folder (downloaded)", "key": "the release key's public key file (.asc)",
            "json": "print what was checked as JSON"})
@farm_errors
def verify(c, dir, key="", json=False):
    """Check a release: signatures by KEY, every sha256, SBOMs and provenance against the files.

    Exit codes: 0 good; 31 bad signature; 32 a file changed, missing or unlisted; 33 SBOM or
    provenance disagree with the files; 34 a file missing or malformed; 2 bad options.
    """
    from ..release.verify import verify as do_verify
    if not key:
        raise Exit("error: pass --key FILE, the release key's public key: a release is only as good as the key "
                   "that signed it", code=2)
    summary = do_verify(Path(dir), Path(key))
    if json:
        print_json(summary)
        return
    print(f"good: {summary['files']} files, signed by {summary['signer']}; every sha256, SBOM and the provenance "
          f"agree (commit {summary['commit'][:12] or 'unknown'}; "
          f"{'built by two builders that agreed' if summary['cross_checked'] else 'built by ONE builder'})")


@task(help={"dir": "the release folder (with its provenance)", "builder": "where to rebuild: local, docker, ssh:NAME",
            "repo": "git repository holding the release's commit (default: this checkout's)",
            "cache": "step cache for the rebuild (default: a fresh one)", "json": "print the comparison as JSON"})
@farm_errors
def rebuild(c, dir, builder="local", repo="", cache="", json=False):
    """Rebuild every artifact from the commit and inputs in the provenance; identical or different, each."""
    from ..release.rebuild import rebuild as do_rebuild
    import sys
    result = do_rebuild(Path(dir), builder=builder, repo=Path(repo) if repo else None,
                        cache=Path(cache) if cache else None, log=lambda m: print(m, file=sys.stderr))
    if json:
        print_json(result)
    else:
        for name, r in result["artifacts"].items():
            extra = f" (diffoscope: {r['diffoscope']})" if r.get("diffoscope") else ""
            print(f"{r['status']:9}  {name}{extra}")
        if result["uncommitted_at_release"]:
            print("warning: the release was made with uncommitted changes in: "
                  + ", ".join(result["uncommitted_at_release"][:10]))
    if not result["identical"]:
        raise Exit("error: the rebuild differs from the release (see above)", code=6)

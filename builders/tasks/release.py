"""`invoke release`: bundle apps for every target this builder can make; sign SHA256SUMS."""
from __future__ import annotations

from pathlib import Path

from invoke import task

from ..progress import make_progress
from .bundle import DEFAULT_APP
from .common import farm_errors, print_json, split_list


@task(
    help={
        "app": f"app directories to release, comma-separated (default {DEFAULT_APP})",
        "key": "fingerprint of the release signing key (checked before anything is built)",
        "gnupghome": "GnuPG home holding the release key (default: gpg's own)",
        "builder": "where steps run: local (default), docker, ssh:NAME",
        "dist": "output folder (default release/): absent or empty, since exactly what is built is signed",
        "index_url": "Python package index for the wheels step (default: this machine's pip config)",
        "maintainer": "packager for the .deb/.rpm, 'Name <address>'",
        "json": "print the release report on stdout",
    }
)
@farm_errors
def release(c, key="", app=DEFAULT_APP, gnupghome="", builder="local", dist="release", index_url="",
            maintainer="", json=False):
    """Build every app for every target, write SHA256SUMS, sign it (detached), write a report."""
    from ..bundle.release import REPORT, release as do_release

    report = do_release([Path(a) for a in split_list(app)], key=key, gnupghome=gnupghome or None,
                        dist=Path(dist), builder=builder, index_url=index_url, maintainer=maintainer,
                        progress=make_progress(live=None if not json else False))
    if json:
        print_json(report)
        return
    for name, digest in sorted(report["artifacts"].items()):
        print(f"{digest}  {name}")
    print(f"signed {report['sha256sums']} -> {report['signature']} with {key}; report: {Path(dist) / REPORT}")

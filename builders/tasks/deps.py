"""`invoke deps.lock`: regenerate the hashed Python pins from the .in files."""
from __future__ import annotations

import sys
from pathlib import Path

from invoke import Collection, task

from .. import paths


@task(help={"upgrade": "move every pin to the newest version the index offers"})
def lock(c, upgrade=False):
    """Re-pin ci/requirements.txt (farm, tests and runtime deps) with sha256 hashes via pip-compile.

    The index comes from this machine's pip configuration. Run `ci/farm --version`
    afterwards (or any ci/farm command) to install the new pins into .venv.
    """
    ci = paths.REPO / "ci"
    compile_ = Path(sys.executable).parent / "pip-compile"
    # --no-emit-find-links: a machine's own wheel folder (PIP_FIND_LINKS) is not the project's.
    flags = "--generate-hashes --allow-unsafe --strip-extras --no-emit-find-links" + (" --upgrade" if upgrade else "")
    with c.cd(str(ci)):
        c.run(f"{compile_} -q {flags} -o requirements.txt requirements.in", pty=False)
    print(f"wrote {ci / 'requirements.txt'}")


ns = Collection("deps", lock)

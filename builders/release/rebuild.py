"""`invoke rebuild DIR --builder B`: build a release again from what its provenance names, and compare.

The provenance gives the git commit, the apps and the targets. That commit is exported
(`git archive`, from this checkout's repository or --repo) into a fresh folder at another
path, and each app is built there for each target by that checkout's own farm (`invoke
build`, with the cache given, or an empty one), on the builder the user picks. Every
artifact is then identical or different (a diffoscope report next to the rebuilt file)
or missing. A release made from a checkout with uncommitted changes says so in its
provenance; its rebuild is reported with that warning, since the commit is not all it
was made from.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import paths
from ..errors import ConfigError, FarmError
from ..sources.verify import sha256_of
from . import compare
from . import provenance as prov


def _statement(folder: Path) -> dict:
    path = folder / prov.FILE
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is missing or not JSON ({exc}): rebuild needs the release's provenance") from None
    problem = prov.check_shape(doc)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return doc


def export(repo: Path, commit: str, dest: Path) -> Path:
    """The tree of `commit` (from the git repository at repo) written to dest."""
    if not commit:
        raise ConfigError("the provenance names no git commit (the release was not made from a git checkout)")
    known = subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        raise ConfigError(f"commit {commit} is not in the repository at {repo}: `git fetch` it, or pass --repo "
                          "with a clone that has it")
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise FarmError(f"git archive {commit} failed in {repo}")
    return dest


def rebuild(folder: Path, *, builder: str, repo: Path | None = None, cache: Path | None = None,
            work: Path | None = None, log=print) -> dict:
    doc = _statement(folder)
    params = doc["predicate"]["buildDefinition"]["externalParameters"]
    commit = prov.commit_of(doc)
    deps = doc["predicate"]["buildDefinition"]["resolvedDependencies"]
    dirty = next((d.get("annotations", {}).get("uncommitted", []) for d in deps if "gitCommit" in d["digest"]), [])
    subjects = {s["name"]: s["digest"]["sha256"] for s in doc["subject"]}
    work = work or Path(tempfile.mkdtemp(prefix="apaf-rebuild-"))
    checkout = export(repo or paths.REPO, commit, work / "checkout" / "apaf")
    cache = cache or work / "cache"
    out = work / "dist"
    env = {**os.environ, "APAF_CACHE": str(cache),
           "PYTHONPATH": os.pathsep.join([str(checkout / "runtime"), str(checkout)])}
    rebuilt: dict[str, Path] = {}
    for app in params["apps"]:
        for target in params["targets"]:
            log(f"rebuilding {app} for {target} on {builder} in {checkout}")
            proc = subprocess.run([sys.executable, "-m", "invoke", "build", "--app", app, "--target", target,
                                   "--builder", builder, "--dist", str(out), "--json"],
                                  cwd=checkout, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise FarmError(f"the rebuild of {app} for {target} failed (exit {proc.returncode}):\n"
                                + proc.stderr[-3000:])
            for path in json.loads(proc.stdout)["files"].values():
                rebuilt[Path(path).name] = Path(path) if Path(path).is_absolute() else checkout / path
    results = {}
    for name, digest in sorted(subjects.items()):
        if name.endswith(".cdx.json"):
            continue            # SBOMs describe a release; the artifacts are what is rebuilt
        if name not in rebuilt:
            results[name] = {"status": "missing"}
            continue
        got = sha256_of(rebuilt[name])
        if got == digest:
            results[name] = {"status": "identical", "sha256": got}
        else:
            entry = {"status": "different", "expected": digest, "rebuilt": got, "file": str(rebuilt[name])}
            if (folder / name).is_file():
                entry["diffoscope"] = str(compare.diffoscope(folder / name, rebuilt[name],
                                                             out / (name + compare.REPORT_SUFFIX)))
            results[name] = entry
    return {"commit": commit, "builder": builder, "checkout": str(checkout), "uncommitted_at_release": dirty,
            "artifacts": results, "identical": all(r["status"] == "identical" for r in results.values())}

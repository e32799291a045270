"""Hash-pinned requirement locks, resolved by the target's own CPython: tools, runtime, app.

`write_lock(python, requirements, path)` resolves with pip inside a venv of the
CPython the farm built (so markers and wheel tags are the target's, not the
machine's), and writes one `name==version --hash=sha256:...` line per package.
The lock's header records a digest of what it was made from; `check_lock`
raises ConfigError naming the stale lock and the command that remakes it.
Resolution uses the network (the machine's pip config); building never does.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from ..errors import ConfigError, ToolMissing

HEADER = "# Made by `ci/farm lock`: do not edit. inputs-sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)")


def inputs_digest(requirements: list[str], constraints: Path | None = None) -> str:
    doc = {"requirements": sorted(r.strip() for r in requirements if r.strip()),
           "constraints": hashlib.sha256(constraints.read_bytes()).hexdigest() if constraints else None}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements.in (comments and blanks dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pins(lock: Path) -> dict[str, str]:
    """{normalised name: version} of a lock."""
    out = {}
    for line in lock.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            out[_norm(m.group(1))] = m.group(2)
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_lock(lock: Path, requirements: list[str], fix: str, constraints: Path | None = None) -> None:
    """ConfigError unless `lock` exists and was made from exactly these requirements."""
    if not lock.is_file():
        raise ConfigError(f"{lock} is missing: the build installs only hash-pinned packages; make it with: {fix}")
    first = lock.read_text().splitlines()[:1]
    if first != [HEADER + inputs_digest(requirements, constraints)]:
        raise ConfigError(f"{lock} is out of date (its requirements changed since it was made); "
                          f"remake it with: {fix}")


def write_lock(python: Path, requirements: list[str], lock: Path, *, constraints: Path | None = None,
               exclude_constrained: bool = False, env: dict[str, str] | None = None, log=print) -> dict[str, str]:
    """Resolve `requirements` for `python` and write `lock`; returns {name: version}."""
    if not requirements:
        raise ConfigError(f"nothing to lock for {lock}: no requirements")
    with tempfile.TemporaryDirectory(prefix="apaf-lock-") as tmp:
        t = Path(tmp)
        venv = t / "venv"
        _run([str(python), "-m", "venv", str(venv)], env, "create a venv of the built CPython")
        (t / "requirements.in").write_text("\n".join(requirements) + "\n")
        cmd = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install",
               "--dry-run", "--ignore-installed", "--prefer-binary", "--quiet",
               "--report", str(t / "report.json"), "-r", str(t / "requirements.in")]
        pinned = pins(constraints) if constraints else {}
        if pinned:
            (t / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(pinned.items())))
            cmd += ["-c", str(t / "constraints.txt")]
        log(f"+ pip install --dry-run --report (resolving {len(requirements)} requirement(s) for {lock})")
        _run(cmd, env, "resolve the requirements (needs the package index: see `pip config list`)")
        report = json.loads((t / "report.json").read_text())
    lines, versions = [HEADER + inputs_digest(requirements, constraints)], {}
    for item in sorted(report["install"], key=lambda i: _norm(i["metadata"]["name"])):
        name, version = _norm(item["metadata"]["name"]), item["metadata"]["version"]
        if exclude_constrained and name in pinned:
            continue
        digest = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        if not digest:
            raise ConfigError(f"{name} {version} resolved to {item['download_info'].get('url')}, "
                              "which has no sha256: only index packages can be locked")
        versions[name] = version
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    tmp_lock = lock.with_name(lock.name + ".tmp")
    tmp_lock.write_text("\n".join(lines) + "\n")
    os.replace(tmp_lock, lock)
    return versions


def _run(cmd: list[str], env: dict[str, str] | None, what: str) -> None:
    try:
        proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    except OSError as exc:
        raise ToolMissing(f"could not {what}: {exc}") from exc
    if proc.returncode != 0:
        raise ConfigError(f"could not {what}:\n{(proc.stderr or proc.stdout).strip()[-2000:]}")

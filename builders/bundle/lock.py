"""Hash-pinned requirement locks, resolved by the target's own CPython: tools, runtime, app.

`write_lock(python, requirements, path)` resolves with pip inside a venv of the
CPython the farm built (so markers and wheel tags are the target's, not the
machine's), and writes one `name==version --hash=sha256:...` line per package.
The lock's header records a digest of what it was made from; `check_lock`
raises ConfigError naming the stale lock and the command that remakes it.
With `platforms` (macOS wheel tags: a macOS lock is made on Linux) pip
resolves once per tag and each package gets every tag's file hash: wheels
only, or with `no_deps` exactly the pins given (a Linux lock's, sdists
allowed). Markers are still the resolving machine's, so a macOS-only
dependency must be named in the requirements (tools.macos.in names macholib).
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
               exclude_constrained: bool = False, env: dict[str, str] | None = None, log=print,
               platforms: tuple[str, ...] = (), no_deps: bool = False) -> dict[str, str]:
    """Resolve `requirements` for `python` (or for each wheel tag of platforms) and write `lock`;
    returns {name: version}."""
    if not requirements:
        raise ConfigError(f"nothing to lock for {lock}: no requirements")
    reports = [_resolve(python, requirements, lock, constraints, env, log, p, no_deps) for p in platforms or (None,)]
    pinned = pins(constraints) if constraints else {}
    found: dict[str, tuple[str, set[str]]] = {}
    for report in reports:
        for item in report["install"]:
            name, version = _norm(item["metadata"]["name"]), item["metadata"]["version"]
            digest = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
            if not digest:
                raise ConfigError(f"{name} {version} resolved to {item['download_info'].get('url')}, "
                                  "which has no sha256: only index packages can be locked")
            if name in found and found[name][0] != version:
                raise ConfigError(f"{name} resolves to {found[name][0]} for one platform and {version} for another "
                                  f"({', '.join(platforms)}); pin it in the requirements")
            found.setdefault(name, (version, set()))[1].add(digest)
    lines, versions = [HEADER + inputs_digest(requirements, constraints)], {}
    for name, (version, digests) in sorted(found.items()):
        if exclude_constrained and name in pinned:
            continue
        versions[name] = version
        lines.append(f"{name}=={version}" + "".join(f" \\\n    --hash=sha256:{d}" for d in sorted(digests)))
    tmp_lock = lock.with_name(lock.name + ".tmp")
    tmp_lock.write_text("\n".join(lines) + "\n")
    os.replace(tmp_lock, lock)
    return versions


def _resolve(python: Path, requirements: list[str], lock: Path, constraints: Path | None,
             env: dict[str, str] | None, log, platform: str | None, no_deps: bool = False) -> dict:
    """pip's install report for requirements (for the given wheel tag, if any)."""
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
        if platform:
            # Another OS's wheels: pip needs a --target to resolve for a foreign platform.
            cmd += ["--no-deps" if no_deps else "--only-binary=:all:", "--platform", platform, "--python-version", "3.13",
                    "--implementation", "cp", "--target", str(t / "target")]
        log(f"+ pip install --dry-run --report (resolving {len(requirements)} requirement(s) for {lock}"
            + (f", {platform}" if platform else "") + ")")
        _run(cmd, env, "resolve the requirements (needs the package index: see `pip config list`)")
        return json.loads((t / "report.json").read_text())


def _run(cmd: list[str], env: dict[str, str] | None, what: str) -> None:
    try:
        proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    except OSError as exc:
        raise ToolMissing(f"could not {what}: {exc}") from exc
    if proc.returncode != 0:
        raise ConfigError(f"could not {what}:\n{(proc.stderr or proc.stdout).strip()[-2000:]}")

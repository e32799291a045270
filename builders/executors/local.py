"""Run a step on this machine, in private mount and network namespaces.

`unshare --mount --net` gives the step a tmpfs at /srv with the job bind-
mounted at the fixed paths (inputs read-only) and no network at all, the same
layout the Docker and SSH executors use. As non-root it adds
`--map-root-user` (user namespaces). The toolchain is the host's: its
identity is the Debian versions of the target's packages.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
from pathlib import Path

from ..errors import StepFailed, ToolMissing
from ..recipes import Target
from . import register
from .base import Job, RunResult, job_env
from .layout import stage
from .processes import StepProcesses
from .sandbox import job_mounts, namespace_argv, namespace_script


def _dpkg_versions(packages) -> tuple[dict[str, str], list[str]]:
    return _dpkg_query(tuple(packages))


@functools.lru_cache(maxsize=None)
def _dpkg_query(packages: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    # Once per process and package list: check() and identity() of every step ask the same.
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Status}\n", *packages],
                          capture_output=True, text=True)
    have, missing = {}, []
    for line in proc.stdout.splitlines():
        name, version, status = line.split("\t")
        if status.endswith("installed") and "not-installed" not in status:
            have[name.split(":")[0]] = version
    missing = [p for p in packages if p not in have]
    return have, missing


@functools.lru_cache(maxsize=None)
def _namespaces_refused() -> str:
    """Why this system refuses the namespaces a step runs in ('' when it allows them).

    A container started without CAP_SYS_ADMIN (Docker's default) refuses them; asked once per
    process, so the first step does not fail halfway through a build with unshare's bare error.
    """
    argv = namespace_argv("true", network=False, as_root=os.geteuid() == 0)
    proc = subprocess.run(argv, capture_output=True, text=True)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or f"exit {proc.returncode}")


@register("local")
class LocalExecutor:
    name = "local"
    os = "linux"             # the OS its steps run on (placement.py)

    def __init__(self, jobs: int | None = None, source_date_epoch: int | None = None):
        self.jobs = jobs or os.cpu_count() or 1
        self.source_date_epoch = source_date_epoch or 0
        self._steps = StepProcesses()

    def check(self, target: Target) -> None:
        if not shutil.which("unshare"):
            raise ToolMissing("`unshare` (util-linux) is needed to isolate build steps: apt-get install util-linux")
        if not os.path.isdir("/srv"):
            raise ToolMissing("the local builder mounts its build root over /srv, which does not exist: mkdir /srv")
        refused = _namespaces_refused()
        if refused:
            raise ToolMissing(
                f"the local builder runs each step in private mount and network namespaces, and this system "
                f"refuses them ({refused}). Inside a container, start it with --privileged (or --cap-add "
                f"SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined); as a user, "
                f"enable user namespaces (sysctl kernel.unprivileged_userns_clone=1); or build with "
                f"--builder docker or --builder ssh")
        _, missing = _dpkg_versions(target.packages)
        if missing:
            raise ToolMissing(f"target {target.name} needs Debian packages that are not installed: "
                              f"{' '.join(missing)}\n  fix: apt-get install -y {' '.join(missing)}"
                              " (or build with --builder docker)")

    def identity(self, target: Target) -> str:
        have, _ = _dpkg_versions(target.packages)
        pins = ",".join(f"{k}={v}" for k, v in sorted(have.items()))
        return f"local:{platform.machine()}:{pins}"

    def _script(self, job: Job, root: Path) -> str:
        binds = [(str(host), inside, ro) for _, host, inside, ro in job_mounts(job, root)]
        return namespace_script(binds, job_env(job, self.jobs, self.source_date_epoch))

    def run(self, job: Job, log) -> RunResult:
        root = stage(job)
        cmd = namespace_argv(self._script(job, root), network=job.network, as_root=os.geteuid() == 0)
        log(f"+ unshare --mount{'' if job.network else ' --net'} sh build.sh  ({job.step_id})")
        code, cpu = self._steps.run(cmd, job.step_id, log, "unshare")
        if code != 0:
            raise StepFailed(f"step {job.step_id} failed (exit {code})")
        return RunResult(cpu_seconds=cpu)

    def cancel(self) -> None:
        """Kill every running step (Ctrl-C): their temp dirs are then abandoned."""
        self._steps.cancel()

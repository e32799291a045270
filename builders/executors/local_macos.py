"""`--builder local` on a Mac (a macOS CI runner, a release engineer's Mac): the SSH macOS steps, here.

The job is copied into a folder of the step's work dir laid out as the SSH
builder uploads it, and the same generated script as on a remote Mac runs
it (platforms/macos.py): the build root's lock, the fixed root, sandbox-exec.
Registered as `local` only when this machine is a Mac (executors/__init__.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import StepFailed
from ..recipes import Target
from .base import Job, RunResult, job_env
from .layout import stage
from .platforms import get as get_platform
from .processes import StepProcesses
from .sandbox import job_mounts


class MacLocalExecutor:
    name = "local"
    os = "macos"

    def __init__(self, jobs: int | None = None, source_date_epoch: int | None = None):
        self.jobs = jobs or os.cpu_count() or 1
        self.source_date_epoch = source_date_epoch or 0
        # The build root is the default one, or $APAF_MACOS_BUILD_ROOT (a CI runner's own user folder).
        self.platform = get_platform("macos", _RootOnly(os.environ.get("APAF_MACOS_BUILD_ROOT", "")))
        self._facts: dict | None = None
        self._steps = StepProcesses()

    @staticmethod
    def _run(command: str) -> tuple[int, str]:
        proc = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True)
        return proc.returncode, proc.stdout + proc.stderr

    def _probe(self) -> dict:
        if self._facts is None:
            self._facts = self.platform.parse(self._run(self.platform.probe)[1])
        return self._facts

    def check(self, target: Target) -> None:
        self.platform.check("this Mac", self._probe(), target, self._run)

    def identity(self, target: Target) -> str:
        return "local-" + self.platform.identity(self._probe(), target, self._run).removeprefix("ssh-")

    def run(self, job: Job, log) -> RunResult:
        staged = stage(job)
        jdir = job.work_dir / "job"
        for rel, src, _, ro in job_mounts(job, staged):
            if ro:  # copies: the step may only ever see (and lock) its own root
                shutil.copytree(src, jdir / rel, symlinks=True)
        (jdir / "out").mkdir(parents=True)
        env = job_env(job, self.jobs, self.source_date_epoch)
        command, shown = self.platform.step_command(str(jdir), None, env, network=job.network,
                                                    facts=self._probe())
        log(f"+ {shown}  ({job.step_id})")
        code, cpu = self._steps.run(["/bin/sh", "-c", command], job.step_id, log, "the step")
        if code != 0:
            raise StepFailed(f"step {job.step_id} failed (exit {code})")
        for item in (jdir / "out").iterdir():
            shutil.move(str(item), job.out_dir / item.name)
        return RunResult(cpu_seconds=cpu)

    def cancel(self) -> None:
        self._steps.cancel()


class _RootOnly:
    """The one inventory field the macOS platform reads, for this machine."""

    def __init__(self, build_root: str):
        self.build_root = build_root
        self.user = os.environ.get("USER", "$USER")

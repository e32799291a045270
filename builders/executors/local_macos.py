"""`--builder local` on a Mac (a macOS CI runner, a release engineer's Mac): the SSH macOS steps, here.

The job is copied into a folder of the step's work dir laid out as the SSH
builder uploads it, and the same generated script as on a remote Mac runs
it (platforms/macos.py): the build root's lock, the fixed root, sandbox-exec.
Registered as `local` only when this machine is a Mac (executors/__init__.py).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading

from ..errors import ExecutorError, StepFailed
from ..recipes import Target
from .base import Job, RunResult, job_env
from .layout import stage
from .platforms import get as get_platform
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
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

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
        try:
            proc = subprocess.Popen(["/bin/sh", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise ExecutorError(f"could not start the step {job.step_id}: {exc}") from exc
        with self._lock:
            self._procs.add(proc)
        try:
            for raw in proc.stdout:
                log(raw.decode(errors="replace").rstrip("\n"))
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            with self._lock:
                self._procs.discard(proc)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise StepFailed(f"step {job.step_id} failed (exit {code})")
        for item in (jdir / "out").iterdir():
            shutil.move(str(item), job.out_dir / item.name)
        return RunResult(cpu_seconds=usage.ru_utime + usage.ru_stime)

    def cancel(self) -> None:
        with self._lock:
            for proc in list(self._procs):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class _RootOnly:
    """The one inventory field the macOS platform reads, for this machine."""

    def __init__(self, build_root: str):
        self.build_root = build_root
        self.user = os.environ.get("USER", "$USER")

"""The executor interface and the job it runs.

Every executor lays a job out at the same fixed paths (see
toolchains/recipes/common.sh) so the same inputs give the same bytes on any
builder, and runs it with no network. It must either fill `job.out_dir`
completely and return, or raise; it never writes anywhere else on the host.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from ..recipes import Target

ROOT = "/srv/apaf"          # the fixed build root inside every executor
RECIPE_DIR = f"{ROOT}/recipe"
SRC_DIR = f"{ROOT}/src"
INPUTS_DIR = f"{ROOT}/inputs"
DEPS_DIR = f"{ROOT}/deps"
BUILD_DIR = f"{ROOT}/build"
OUT_DIR = f"{ROOT}/out"


@dataclass
class Job:
    step_id: str
    recipe_files: dict[str, bytes]          # laid out in RECIPE_DIR; build.sh is run
    sources: list[Path]                     # verified tarballs, into SRC_DIR
    deps: dict[str, Path]                   # recipe name -> its output dir, into DEPS_DIR/<name>
    out_dir: Path                           # host dir the executor fills with OUT_DIR's content
    work_dir: Path                          # host scratch space the executor may use
    env: dict[str, str] = field(default_factory=dict)
    trees: dict[str, Path] = field(default_factory=dict)   # named input folders, into INPUTS_DIR/<name>
    network: bool = False                   # only for steps whose downloads are pinned by hash


@dataclass
class RunResult:
    cpu_seconds: float = 0.0


class Executor(Protocol):
    name: str

    def check(self, target: Target) -> None:
        """Raise ToolMissing (with the command that fixes it) if this executor cannot build target."""

    def identity(self, target: Target) -> str:
        """A string naming the toolchain this executor builds target with (part of step keys)."""

    def run(self, job: Job, log: Callable[[str], None]) -> RunResult:
        """Run job's build.sh; stream its output lines to log; raise StepFailed on failure."""


def job_env(job: Job, jobs: int, source_date_epoch: int) -> dict[str, str]:
    """The environment every executor gives build.sh (nothing of the caller's leaks in)."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": BUILD_DIR,
        "TMPDIR": BUILD_DIR,
        "LC_ALL": "C",
        "TZ": "UTC",
        "JOBS": str(jobs),
        "SOURCE_DATE_EPOCH": str(source_date_epoch),
    }
    env.update(job.env)
    return env

"""Ctrl-C stops the steps still running wherever it lands in the farm's main thread, not only in its wait."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from builders.build import Build
from builders.errors import StepFailed
from builders.executors.base import RunResult
from builders.progress import PlainProgress
from builders.recipes import load_target

SLOW_STEP = 20.0   # seconds the slow step runs unless cancelled


def _target(root: Path):
    """Two independent one-step recipes without sources: `fails` and `slow`."""
    (root / "targets").mkdir()
    (root / "targets" / "t.toml").write_text('name = "t"\n[toolchains.cc]\nCC = "cc"\n'
                                             '[outputs]\nfails = "cc"\nslow = "cc"\n')
    (root / "recipes").mkdir()
    (root / "recipes" / "common.sh").write_text("")
    for name in ("fails", "slow"):
        (root / "recipes" / name).mkdir()
        (root / "recipes" / name / "recipe.toml").write_text("sources = []\ndeps = []\n")
        (root / "recipes" / name / "build.sh").write_text("true\n")
    return load_target("t", root / "targets")


class _Executor:
    """`fails` fails at once; `slow` runs until cancel() or SLOW_STEP seconds."""
    name = "fake"

    def __init__(self):
        self.cancelled = threading.Event()
        self.slow_ended_by = ""

    def check(self, target) -> None:
        pass

    def identity(self, target) -> str:
        return "fake"

    def run(self, job, log) -> RunResult:
        if job.step_id.startswith("fails"):
            raise StepFailed(f"step {job.step_id} failed")
        self.slow_ended_by = "cancel" if self.cancelled.wait(SLOW_STEP) else "its end"
        raise StepFailed(f"step {job.step_id} cancelled")

    def cancel(self) -> None:
        self.cancelled.set()


class _CtrlCOnFailure(PlainProgress):
    """Presses Ctrl-C (a real SIGINT) when the main thread marks `fails` failed: outside the build's wait."""

    def step_state(self, step_id: str, state: str, detail: str = "") -> None:
        super().step_state(step_id, state, detail)
        if step_id.startswith("fails") and state == "failed":
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def sigint_raises():
    """Ctrl-C's foreground disposition, whatever started the test run (a `&` job ignores SIGINT)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_ctrl_c_between_waits_cancels_the_running_step(tmp_path, sigint_raises):
    executor = _Executor()
    build = Build(_target(tmp_path), executor, cache_root=tmp_path / "cache", parallel=2,
                  progress=_CtrlCOnFailure())
    with pytest.raises(KeyboardInterrupt):
        build.run()
    assert executor.slow_ended_by == "cancel"

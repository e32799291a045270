"""The step processes an executor runs on this machine (local, and local on a Mac).

Each starts in its own session, so a cancel (Ctrl-C) kills the step's whole
process group; its output is streamed line by line to the step's log and its
CPU time (the children's rusage) is counted.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading

from ..errors import ExecutorError


class StepProcesses:
    def __init__(self):
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def run(self, argv: list[str], step_id: str, log, what: str) -> tuple[int, float]:
        """Run argv to the end, logging its output; (exit code, CPU seconds)."""
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise ExecutorError(f"could not start {what} for {step_id}: {exc}") from exc
        with self._lock:
            self._procs.add(proc)
        try:
            for raw in proc.stdout:
                log(raw.decode(errors="replace").rstrip("\n"))
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            with self._lock:
                self._procs.discard(proc)
        return proc.returncode, usage.ru_utime + usage.ru_stime

    def cancel(self) -> None:
        """Kill every running step: their temp dirs are then abandoned."""
        with self._lock:
            for proc in list(self._procs):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

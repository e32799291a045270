"""The local builders' step processes: output streamed, CPU counted, Ctrl-C kills the whole step."""
from __future__ import annotations

import threading
import time

from builders.executors.processes import StepProcesses


def test_output_is_streamed_and_cpu_time_counted():
    lines = []
    code, cpu = StepProcesses().run(["sh", "-c", "echo one; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; "
                                     "echo two; exit 3"], "demo@gnu", lines.append, "sh")
    assert (code, lines) == (3, ["one", "two"])
    assert cpu > 0.05


def test_cancel_kills_the_step_and_its_children():
    steps, lines, result = StepProcesses(), [], {}
    # The step's child (sleep) holds the output pipe: only killing the whole group ends it.
    thread = threading.Thread(target=lambda: result.update(
        out=steps.run(["sh", "-c", "echo started; sleep 60 & wait"], "demo@gnu", lines.append, "sh")))
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    steps.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert result["out"][0] != 0

"""Progress of a build: a live table with each running step's log tail, or plain lines.

The live display (rich) is used on a terminal; elsewhere (CI logs, --json)
plain timestamped lines go to stderr, with a heartbeat for long steps.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import deque

HEARTBEAT = 30.0


class PlainProgress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()
        self.last = {}
        self.beat = {}
        self.users = 0

    def _say(self, msg: str) -> None:
        with self.lock:
            print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=self.stream, flush=True)

    def start(self, steps) -> None:
        self._say(f"{len(steps)} steps: {', '.join(s.id for s in steps)}")

    def stop(self) -> None:
        pass

    def add(self, steps) -> None:
        """More steps (another target's) on a display already started."""
        self.start(steps)

    def attach(self, steps) -> None:
        """A build sharing this display starts: the first one starts it."""
        with self.lock:
            self.users += 1
            first = self.users == 1
        self.start(steps) if first else self.add(steps)

    def detach(self) -> None:
        """A build sharing this display ends: the last one stops it."""
        with self.lock:
            self.users -= 1
            last = self.users == 0
        if last:
            self.stop()

    def step_state(self, step_id: str, state: str, detail: str = "") -> None:
        self.beat[step_id] = time.monotonic()
        self._say(f"{step_id}: {state}{(' ' + detail) if detail else ''}")

    def step_line(self, step_id: str, line: str) -> None:
        self.last[step_id] = line
        now = time.monotonic()
        if now - self.beat.get(step_id, now) >= HEARTBEAT:
            self.beat[step_id] = now
            self._say(f"{step_id}: … {line[:150]}")

    def note(self, msg: str) -> None:
        self._say(msg)


class LiveProgress(PlainProgress):
    TAIL = 3

    def __init__(self):
        # rich (~0.1 s to import) only for a terminal: a plain or no-op build never loads it.
        from rich.console import Console
        from rich.live import Live
        super().__init__()
        self.console = Console(stderr=True)
        self.states: dict[str, tuple[str, float, str]] = {}
        self.tails: dict[str, deque] = {}
        self.live = Live(console=self.console, refresh_per_second=4, get_renderable=self._render)

    def _render(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text
        table = Table(show_header=True, header_style="bold", expand=True)
        table.add_column("step", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("log tail", overflow="ellipsis")
        now = time.monotonic()
        for sid, (state, started, detail) in self.states.items():
            running = state == "building"
            elapsed = f"{now - started:5.0f}s" if running else detail
            tail = "\n".join(self.tails.get(sid, ())) if running else ""
            style = {"building": "yellow", "built": "green", "cached": "cyan", "failed": "red"}.get(state, "")
            table.add_row(sid, Text(state, style=style), elapsed, Text(tail, overflow="ellipsis", no_wrap=True))
        return Group(table)

    def start(self, steps) -> None:
        for s in steps:
            self.states[s.id] = ("waiting", time.monotonic(), "")
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def add(self, steps) -> None:
        for s in steps:
            self.states[s.id] = ("waiting", time.monotonic(), "")

    def step_state(self, step_id: str, state: str, detail: str = "") -> None:
        started = time.monotonic() if state == "building" else self.states.get(step_id, ("", 0, ""))[1]
        self.states[step_id] = (state, started, detail)

    def step_line(self, step_id: str, line: str) -> None:
        self.tails.setdefault(step_id, deque(maxlen=self.TAIL)).append(line[:200])

    def note(self, msg: str) -> None:
        self.console.log(msg)


class TargetView:
    """One build's view of a display shared by several targets' builds.

    Step ids are shown as "<target>/<step>" (two targets have steps of the same name), and
    the shared display stops only when the last build that started it stops.
    """

    def __init__(self, shared, target: str):
        self.shared, self.target = shared, target

    def _id(self, step_id: str) -> str:
        return f"{self.target}/{step_id}"

    def start(self, steps) -> None:
        self.shared.attach([_Renamed(self._id(s.id)) for s in steps])

    def stop(self) -> None:
        self.shared.detach()

    def step_state(self, step_id: str, state: str, detail: str = "") -> None:
        self.shared.step_state(self._id(step_id), state, detail)

    def step_line(self, step_id: str, line: str) -> None:
        self.shared.step_line(self._id(step_id), line)

    def note(self, msg: str) -> None:
        self.shared.note(f"{self.target}: {msg}")


class _Renamed:
    def __init__(self, step_id: str):
        self.id = step_id


def for_target(progress, target: str, several: bool):
    """progress itself for a single build, else the target's view of it."""
    return TargetView(progress, target) if several else progress


def make_progress(live: bool | None = None):
    if live is None:
        live = sys.stderr.isatty()
    return LiveProgress() if live else PlainProgress()

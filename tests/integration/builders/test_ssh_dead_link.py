"""The SSH builder on a link that goes silent (no FIN, no RST), against the real sshd on loopback.

The link is frozen by stopping (SIGSTOP) the server-side sshd processes of the
connection: the kernel still ACKs, but nothing answers, the way a link through
a NAT that forgot the flow behaves. The listener stays up unless a test
freezes it too (then new connections hang at the banner: a host that never
comes back). Each step is a small build.sh run through the real executor path
(upload, unshare, stream, download). `link_timeout` is 3 s here (30 s by default).
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from builders.errors import ExecutorError
from builders.executors import get as get_executor
from builders.executors.base import Job

pytestmark = pytest.mark.slow

LINK_TIMEOUT = 3.0


class Freezer:
    """Freezes the fixture's sshd processes (sshd_builder.freeze); everything is resumed at the end."""

    def __init__(self, sshd):
        self.sshd = sshd
        self.stopped: list[int] = []

    def freeze_sessions(self, listener_too: bool = False) -> int:
        pids = self.sshd.freeze(listener_too)
        self.stopped += pids
        return len(pids)

    def resume(self) -> None:
        self.sshd.thaw(self.stopped)
        self.stopped = []


@pytest.fixture
def freezer(sshd_builder):
    f = Freezer(sshd_builder)
    yield f
    f.resume()


@pytest.fixture
def inventory(sshd_builder, tmp_path) -> Path:
    inv = sshd_builder.write_inventory(tmp_path / "builders.toml", known_hosts=sshd_builder.dir / "known_hosts",
                                       retries=1)
    inv.write_text(inv.read_text().replace("connect_timeout = 10", f"connect_timeout = 2\n"
                                                                  f"link_timeout = {LINK_TIMEOUT:g}"))
    return inv


def _job(tmp_path: Path, step: str, seconds: int) -> Job:
    """A step that prints one line, stays silent for `seconds`, then writes its output."""
    script = f"echo started\nsleep {seconds}\necho ok > /srv/apaf/out/result\n"
    out = tmp_path / "out"
    out.mkdir()
    return Job(step_id=step, recipe_files={"build.sh": script.encode()}, sources=[], deps={},
               out_dir=out, work_dir=tmp_path / "work")


class Log:
    """The step log, with the time of each line, and an action on the first 'started'."""

    def __init__(self, on_start=None):
        self.lines: list[tuple[float, str]] = []
        self.on_start = on_start

    def __call__(self, line: str) -> None:
        self.lines.append((time.monotonic(), line))
        if line == "started" and self.on_start:
            action, self.on_start = self.on_start, None
            action()

    def first(self, prefix: str) -> tuple[float, str] | None:
        return next(((t, l) for t, l in self.lines if l.startswith(prefix)), None)


def _wait_until(cond, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _step_processes(work_dir: Path) -> bytes:
    return subprocess.run(["pgrep", "-f", f"{work_dir}/dead-link"], capture_output=True).stdout


def test_a_quiet_but_alive_step_is_not_taken_for_a_dead_link(sshd_builder, inventory, tmp_path):
    """Silent for over 3x the link timeout, and the host answers keepalives: one attempt, output back."""
    job = _job(tmp_path, "quiet@ssh", int(LINK_TIMEOUT * 3) + 1)
    log = Log()
    get_executor("ssh:loopback", inventory=inventory).run(job, log)
    assert (job.out_dir / "result").read_text() == "ok\n"
    assert log.first("! link to") is None, [l for _, l in log.lines]


def test_a_silently_dead_link_is_noticed_in_bounded_time_and_the_step_retried(
        sshd_builder, inventory, freezer, tmp_path):
    frozen = {}

    def freeze():
        frozen["n"] = freezer.freeze_sessions()
        frozen["at"] = time.monotonic()

    job = _job(tmp_path, "dead-link@ssh", 4)
    log = Log(on_start=freeze)
    started = time.monotonic()
    get_executor("ssh:loopback", inventory=inventory).run(job, log)
    assert frozen["n"] >= 1
    retry = log.first("! link to loopback lost")
    assert retry, [l for _, l in log.lines]
    detected = retry[0] - frozen["at"]
    print(f"\nsilent link noticed after {detected:.1f} s (link_timeout {LINK_TIMEOUT:g} s); "
          f"step done in {time.monotonic() - started:.1f} s")
    assert "went silent" in retry[1] and "attempt 2 of 2" in retry[1]
    # The bound the inventory promises: no earlier than 2/3 of link_timeout (the keepalive's grace),
    # no later than link_timeout, plus scheduling slack on a loaded machine.
    # Noticed, not waited out: TCP would take minutes. The exact figure is in bench_ssh_dead_link.
    assert LINK_TIMEOUT * 2 / 3 - 0.5 <= detected <= LINK_TIMEOUT + 15
    assert (job.out_dir / "result").read_text() == "ok\n"
    assert sorted(p.name for p in job.out_dir.iterdir()) == ["result"]
    # The frozen session comes back to life, finds its link gone and cleans up after itself.
    freezer.resume()
    _wait_until(lambda: list(sshd_builder.work_dir.iterdir()) == [], 15, "remote folder left behind")


@pytest.mark.parametrize("seconds", [300, 0], ids=["step-still-running", "step-ended-during-outage"])
def test_a_link_that_never_comes_back_fails_clearly_and_leaves_nothing(
        sshd_builder, inventory, freezer, tmp_path, seconds):
    """Sessions and listener frozen: the retry cannot connect either; after the error the host
    recovers (sshd resumed, as a server notices a dead client), the cut-off step is killed and
    its folder removed, also when the step ended before its outputs could be collected."""
    job = _job(tmp_path, "dead-link-forever@ssh", seconds)
    log = Log(on_start=lambda: freezer.freeze_sessions(listener_too=True))
    started = time.monotonic()
    with pytest.raises(ExecutorError) as err:
        get_executor("ssh:loopback", inventory=inventory).run(job, log)
    took = time.monotonic() - started
    print(f"\ngave up after {took:.1f} s (link_timeout {LINK_TIMEOUT:g} s, connect_timeout 2 s, 2 attempts)")
    msg = str(err.value)
    assert "lost the link to SSH builder 'loopback'" in msg and "dead-link-forever@ssh" in msg
    assert f"127.0.0.1:{sshd_builder.port}" in msg and "2 attempts" in msg and "nothing of it was cached" in msg
    assert "went silent" in log.first("! link to loopback lost")[1]
    assert took < 60, "a dead link must not wait for TCP to give up"
    assert list(job.out_dir.iterdir()) == []
    assert _step_processes(sshd_builder.work_dir), "the frozen session's step shell should be there before recovery"
    assert list(sshd_builder.work_dir.iterdir()), "the remote folder outlives the link until the host notices"
    freezer.resume()
    _wait_until(lambda: not _step_processes(sshd_builder.work_dir), 15, "cut-off step still running on the host")
    _wait_until(lambda: list(sshd_builder.work_dir.iterdir()) == [], 15, "remote folder left behind")

"""An app's resource limits (apaf.sandbox.limits) when it shares the user's uid: a fork bomb
gets TASKS processes beyond what that uid already ran, no core dumps, OPEN_FILES descriptors.
The root runtime's case (the app's own uid) runs a real app: tests/integration/test_app_limits.py."""
import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from apaf.sandbox import limits

# Root is exempt from RLIMIT_NPROC: the bomb runs as a uid nothing else on the machine uses.
USER = 60123
needs_root = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                                reason="needs root on Linux to run as an unused uid")


def _bomb(write: int) -> None:
    """In a forked child: become USER, set the limits as an app sharing its uid, fork until refused."""
    try:
        os.setpgid(0, 0)  # the test kills the bomb's whole group
        os.setgroups([])
        os.setresgid(USER, USER, USER)
        os.setresuid(USER, USER, USER)
        notes = limits.apply(own_uid=False)
        children, refused = 0, ""
        while children < 4 * limits.TASKS:  # a bound of its own, should the limit be missing
            try:
                pid = os.fork()
            except OSError as err:
                refused = err.strerror
                break
            if pid == 0:
                os.close(write)  # the test reads the report up to its end
                while True:
                    signal.pause()
            children += 1
        report = {"children": children, "refused": refused, "notes": notes,
                  "core": resource.getrlimit(resource.RLIMIT_CORE),
                  "files": resource.getrlimit(resource.RLIMIT_NOFILE)}
        os.write(write, json.dumps(report).encode())
        os.close(write)
        while True:  # one of the uid's tasks until the test kills the group
            signal.pause()
    finally:  # never back into pytest; on an error the test reads an empty report
        os._exit(1)


def _wait_for(predicate, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@needs_root
def test_a_fork_bomb_sharing_the_users_uid_gets_TASKS_beyond_what_the_user_runs():
    if limits.uid_tasks(USER):
        pytest.skip(f"uid {USER} is in use on this machine")
    # The user's other programs: twenty of them, running before the app starts.
    others = [subprocess.Popen(["sleep", "120"], user=USER, group=USER, extra_groups=[])
              for _ in range(20)]
    read, write = os.pipe()
    bomb = os.fork()
    if bomb == 0:
        os.close(read)
        _bomb(write)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as answer:
            report = json.loads(answer.read() or b"{}")
        # 20 others + the bomb itself + TASKS more: the bomb's children are TASKS exactly.
        assert report["children"] == limits.TASKS, report
        assert report["refused"] == "Resource temporarily unavailable"
        assert report["core"] == [0, 0]
        assert report["files"][1] <= limits.OPEN_FILES
        assert limits.uid_tasks(USER) == 20 + 1 + limits.TASKS
        # The limit is the bomb's, not the user's: their other programs still start processes.
        extra = subprocess.Popen(["sleep", "120"], user=USER, group=USER, extra_groups=[])
        others.append(extra)
        assert extra.poll() is None
    finally:
        os.killpg(bomb, signal.SIGKILL)
        os.waitpid(bomb, 0)
        for p in others:
            p.kill(), p.wait()
    assert _wait_for(lambda: limits.uid_tasks(USER) == 0), limits.uid_tasks(USER)


def test_a_lower_limit_the_user_set_is_kept(monkeypatch):
    """`ulimit -u 100` before apaf: raising it back would be refused; the app gets the 100."""
    set_to = {}
    monkeypatch.setattr(resource, "getrlimit", lambda which: (100, 100))
    monkeypatch.setattr(resource, "setrlimit", lambda which, v: set_to.__setitem__(which, v))
    notes = limits.apply(own_uid=True)
    assert set_to[resource.RLIMIT_NPROC] == (100, 100)
    assert set_to[resource.RLIMIT_NOFILE] == (100, 100)
    assert set_to[resource.RLIMIT_CORE] == (0, 0)
    assert "100 processes and threads" in notes[0]

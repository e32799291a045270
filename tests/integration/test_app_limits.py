"""A fork bomb app under a root runtime (apaf.sandbox.limits): refused at TASKS processes of its
own uid, while the runtime and the rest of the machine go on; no core dumps. ~5 s."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from apaf.apps import AppProcess
from apaf.manifest import load_manifest
from apaf.sandbox import limits
from apaf.sandbox.account import app_uid

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                                reason="the app's own uid, and so RLIMIT_NPROC's count of it, needs a root runtime")

BOMB = '''
import json, os, signal, time
from aiohttp import web

def main():
    started = time.monotonic()
    children, refused = [], ""
    while len(children) < 4 * 256:  # a bound of its own, should the limit be missing
        try:
            pid = os.fork()
        except OSError as err:
            refused = err.strerror
            break
        if pid == 0:
            while True:
                signal.pause()
        children.append(pid)
    took = time.monotonic() - started
    for pid in children[-8:]:  # room for the threads serving this report needs
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    report = {"children": len(children), "refused": refused, "seconds": took}

    async def answer(request):
        return web.json_response(report)

    app = web.Application()
    app.router.add_get("/", answer)
    return app
'''


def _limits_of(pid: int) -> dict[str, list[str]]:
    """/proc/PID/limits as {"Max processes": [soft, hard], ...}."""
    rows = open(f"/proc/{pid}/limits").read().splitlines()[1:]
    return {r[:26].strip(): r[26:].split()[:2] for r in rows}


async def test_a_fork_bomb_app_is_refused_at_its_limit_and_the_runtime_goes_on(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "apaf.toml").write_text('[app]\nname = "forkbomb"\nversion = "1"\nentry = "bomb:main"\n')
    (tmp_path / "app" / "bomb.py").write_text(BOMB)
    uid = app_uid("forkbomb")
    if limits.uid_tasks(uid):
        pytest.skip(f"uid {uid} is in use on this machine")
    app = AppProcess(load_manifest(tmp_path / "app"), data_dir=tmp_path / "d", log_path=tmp_path / "log", env={})
    await app.start()
    try:
        with urllib.request.urlopen(f"http://{app.host}:{app.port}/", timeout=30) as r:
            report = json.load(r)
        print(f"fork bomb: {report['children']} children in {report['seconds']:.2f} s")
        # The app and its parent-watch thread count too: TASKS tasks in all, then EAGAIN.
        assert limits.TASKS - 4 <= report["children"] <= limits.TASKS - 2, report
        assert report["refused"] == "Resource temporarily unavailable"
        assert limits.uid_tasks(uid) <= limits.TASKS
        seen = _limits_of(app.proc.pid)
        assert seen["Max processes"] == [str(limits.TASKS)] * 2
        assert seen["Max core file size"] == ["0", "0"]
        assert seen["Max open files"] == [str(limits.OPEN_FILES)] * 2
        # The runtime, and every other account, still start processes.
        assert subprocess.run(["true"], timeout=30).returncode == 0
        assert subprocess.run(["true"], user=65534, group=65534, extra_groups=[], timeout=30).returncode == 0
    finally:
        await app.stop()
    deadline = time.monotonic() + 15  # stopping the app takes its children with it
    while limits.uid_tasks(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert limits.uid_tasks(uid) == 0

"""The runtime forbids core dumps (it holds the onion keys) as its start begins, and what it
starts (tor, the apps) inherits that.  In a child process: the limit cannot be raised back
here without privilege, and the test process keeps its own."""
import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")  # Linux and macOS; Windows has no RLIMIT_CORE

SCRIPT = r"""
import asyncio, resource, subprocess, sys
from apaf import paths
from apaf.runtime import Runtime

resource.setrlimit(resource.RLIMIT_CORE, (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)
print(resource.getrlimit(resource.RLIMIT_CORE))

class Stop(Exception):
    pass

def stop(layout):  # the first thing start() does after the limit: take the data dir's lock
    raise Stop

paths.lock_data_dir = stop
rt = Runtime([sys.argv[1]], sys.argv[2], tor_binary="/bin/true")
try:
    asyncio.run(rt.start())
except Stop:
    pass
print(resource.getrlimit(resource.RLIMIT_CORE))
# what tor and the apps see: a process started now, after an exec
sys.stdout.flush()
subprocess.run([sys.executable, "-c",
                "import resource; print(resource.getrlimit(resource.RLIMIT_CORE))"], check=True)
"""


def test_runtime_start_forbids_core_dumps_for_itself_and_its_children(tmp_path):
    from fixtures.runtime import ENVECHO

    out = subprocess.run([sys.executable, "-c", SCRIPT, str(ENVECHO), str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    before, after, child = out.stdout.split("\n")[:3]
    if before == "(0, 0)":
        pytest.skip("core dumps are already off here (hard limit 0): nothing to show")
    assert (after, child) == ("(0, 0)", "(0, 0)")

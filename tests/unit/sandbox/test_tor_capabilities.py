"""A root runtime's tor starts as uid 0 without any capability (apaf.sandbox.linux.tor_child_setup),
checked here on a stand-in program the way start_owned starts tor; the real tor on the private
network: tests/integration/test_tor_sandbox.py."""
import asyncio
import os
import sys

import pytest

from apaf.tor.owner import start_owned

linux_root = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux")
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def _fields(status: str) -> dict[str, str]:
    return {k: v.strip() for k, v in (line.split(":", 1) for line in status.splitlines())}


@linux_root
async def test_a_root_runtimes_tor_starts_with_no_capability_and_cannot_regain_one():
    from apaf.sandbox import linux
    link = linux.tor_owner()
    try:
        # The shell stands in for tor; executing another program shows nothing comes back on exec.
        proc = await start_owned(link, ["/bin/sh", "-c", "cat /proc/self/status"],
                                 stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
    finally:
        link.close()
    fields = _fields(out.decode())
    assert fields["Uid"].split()[0] == "0"
    assert {c: int(fields[c], 16) for c in CAPS} == dict.fromkeys(CAPS, 0), fields
    assert fields["NoNewPrivs"] == "1"
    # The runtime itself keeps its capabilities: it still hands folders to the apps' uids.
    assert int(_fields(open("/proc/self/status").read())["CapEff"], 16) != 0


def test_a_users_tor_is_started_as_before(monkeypatch):
    if sys.platform != "linux":
        pytest.skip("Linux platform module")
    from apaf.sandbox import linux
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert linux.tor_owner().preexec is None  # nothing to drop, and no preexec_fn cost

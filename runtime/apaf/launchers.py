"""The static bundle's own launcher processes above the runtime, watched so that killing them stops us.

The static binary runs as a chain: staticx's bootloader (the file the user started) →
PyInstaller's onefile bootloader → the runtime (Python). Ctrl-C and SIGTERM travel down the
chain; SIGKILL cannot. `kill -9` of the program the user started left the runtime, tor and the
apps serving the onion, with no process the user knew of to stop (found by trying it). So the
runtime watches each launcher and stops as on SIGTERM once one is gone.

Linux only (/proc, pidfd); see the platform modules' watch_launchers() for the others.
"""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Callable


def launcher_pids(proc: Path = Path("/proc")) -> list[int]:
    """Our ancestors that are this bundle's launchers, nearest first: processes running our own
    executable (PyInstaller's bootloader runs the file it unpacked Python from) or staticx's
    (STATICX_PROG_PATH). [] when not frozen: then our parent is whatever started us."""
    if not getattr(sys, "frozen", False):
        return []
    ours = {os.path.realpath(sys.executable)}
    if os.environ.get("STATICX_PROG_PATH"):
        ours.add(os.path.realpath(os.environ["STATICX_PROG_PATH"]))
    found: list[int] = []
    pid = os.getppid()
    while pid > 1:  # pid 1 (a container's first process) never goes without us
        try:
            if os.readlink(proc / str(pid) / "exe") not in ours:
                break
            found.append(pid)
            pid = _parent_of(proc, pid)
        except (OSError, ValueError):  # gone meanwhile, or not ours to read: stop walking
            break
    return found


def _parent_of(proc: Path, pid: int) -> int:
    # The command name in field 2 may hold spaces or ")": the fields after the last ")" are safe.
    return int((proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def watch(pids: list[int], on_gone: Callable[[], None]) -> list[int]:
    """Call `on_gone` in the running loop when any of `pids` exits (a pidfd turns readable then:
    no polling, and a zombie counts as gone). Returns the pidfds, which live as long as we do."""
    loop = asyncio.get_running_loop()
    fds = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone
            loop.call_soon(on_gone)
            continue
        loop.add_reader(fd, on_gone)
        fds.append(fd)
    return fds

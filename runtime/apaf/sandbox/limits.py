"""Resource limits of an app process (Linux), set before its code runs, soft = hard so the app
cannot raise them again.

    notes = apply(own_uid=True)     # the runtime is root: the app runs as a uid of its own

RLIMIT_CORE 0: a core dump would write the app's memory (its secrets, its visitors' data) to
disk, where the app's uid, or the user, can read it long after.

RLIMIT_NPROC: the kernel counts every task (process or thread) of the process's real uid, not
the process's own children. With a uid of its own (root runtime) that is the app alone: TASKS
in all. Under an ordinary user's runtime the app shares the user's uid, so TASKS alone would
count the user's browser and desktop and refuse the app's first thread; the limit is then what
that uid runs when the app starts plus TASKS. It bounds a fork bomb all the same; the price is
that if the user's own programs grow by more than TASKS while the app runs, the app's new
threads are refused (the user's programs never are: the limit is on the app's processes only).

RLIMIT_NOFILE: at most OPEN_FILES descriptors per process (a hard limit lowered, never raised):
together
with RLIMIT_NPROC this bounds the kernel memory one app can pin in open files and sockets.

Memory is not limited: RLIMIT_AS counts address space reserved, not used (glibc reserves 64 MiB
per thread for malloc arenas, 8 MiB per thread stack), so a bound that stops a memory hog also
stops an ordinary threaded app; a cgroup (memory.max) would be the right tool.
"""
from __future__ import annotations

import os
import resource

TASKS = 256        # processes + threads: Python's default executor alone may start 32 threads
OPEN_FILES = 4096


def uid_tasks(uid: int) -> int:
    """How many tasks (threads included, as the kernel counts them) run with real uid `uid`."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:  # gone meanwhile
            continue
        if int(fields["Uid"].split()[0]) == uid:
            count += int(fields["Threads"])
    return count


def _set(which: int, value: int) -> int:
    """Soft and hard limit to `value`, or to the hard limit already there if lower (the user's
    `ulimit`: raising it would be refused, and a lower one is no worse). Returns what is set."""
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))
    return value


def apply(own_uid: bool) -> list[str]:
    """Set this process's limits; `own_uid`: it is about to run as a uid no other program uses."""
    _set(resource.RLIMIT_CORE, 0)
    tasks = _set(resource.RLIMIT_NPROC, TASKS if own_uid else uid_tasks(os.getuid()) + TASKS)
    files = _set(resource.RLIMIT_NOFILE, OPEN_FILES)
    whose = "its own uid" if own_uid else f"its uid runs now + {TASKS}"
    return [f"limits: {tasks} processes and threads ({whose}), {files} open files, no core dumps"]

"""apaf.memory: with one_arena(), a process's threads allocate from one glibc malloc arena
instead of one each (each kept free pages of its own in the runtime's RSS)."""
import re
import subprocess
import sys

import pytest

PROBE = r"""
import ctypes, sys, threading
from apaf import memory
if sys.argv[1] == "one":
    memory.one_arena()

def allocate():
    held = [bytearray(1000) for _ in range(2000)]  # below the mmap threshold: from an arena
    barrier.wait()  # all threads allocating at once, as the runtime's executor does at start

barrier = threading.Barrier(4)
threads = [threading.Thread(target=allocate) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()  # glibc: one "Arena N:" block per arena, on stderr
"""


def arenas(mode: str) -> int:
    err = subprocess.run([sys.executable, "-c", PROBE, mode], check=True, capture_output=True,
                         text=True).stderr
    return len(re.findall(r"^Arena \d+:", err, re.M))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_one_arena_keeps_every_threads_allocations_in_one_arena():
    assert arenas("default") > 1  # what the runtime had: a test that can fail
    assert arenas("one") == 1

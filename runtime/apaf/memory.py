"""Keep the memory a process freed from staying in its RSS (glibc's malloc).

Start-up (imports, parsing the manifest, setting up the sandbox, a first-boot password
hash) frees most of what it allocated, but glibc's malloc keeps the freed pages for later:
they stay in the process's RSS. `trim()` once a process is serving returns them
(~0.6 MB of a static-site app process). `one_arena()`, before a process starts threads,
keeps every thread's allocations in one malloc arena: by default each thread that allocates
gets its own, and the runtime's (asyncio's executor doing imports, the password hash and file
writes; stem's reader) each held free pages of their own. Both are no-ops where libc has no
such call (musl, macOS, Windows).
"""
from __future__ import annotations

import gc
import sys

M_ARENA_MAX = -8  # glibc's malloc.h


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.malloc_trim, libc.mallopt  # noqa: B018 -- both or neither: glibc
    except (ImportError, OSError, AttributeError):  # musl (a static bundle) has none
        return None
    return libc


def trim() -> None:
    libc = _glibc()
    if libc is None:
        return
    gc.collect()  # start-up's reference cycles first, so their pages are free to return
    libc.malloc_trim(0)


def one_arena() -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, 1)

"""Give the memory that start-up used and freed back to the system.

Start-up (imports, parsing the manifest, setting up the sandbox, a first-boot password
hash) frees most of what it allocated, but glibc's malloc keeps the freed pages for later:
they stay in the process's RSS. `trim()` once a process is serving returns them
(~0.6 MB of a static-site app process). A no-op where libc has no malloc_trim (musl,
macOS, Windows).
"""
from __future__ import annotations

import gc
import sys


def trim() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        malloc_trim = libc.malloc_trim
    except (ImportError, OSError, AttributeError):  # musl (a static bundle) has none
        return
    gc.collect()  # start-up's reference cycles first, so their pages are free to return
    malloc_trim(0)

"""No core dumps from the runtime, nor from tor and the apps it starts (they inherit it).

The runtime holds the onion services' private keys (and tor holds them too): a crash that
dumped core would write them to a file or hand them to a crash reporter (systemd-coredump,
apport; on macOS when `ulimit -c` was raised).  `disable()` sets RLIMIT_CORE's soft and hard
limits to 0 where the `resource` module exists (Linux, macOS); a lowered hard limit cannot
be raised again without CAP_SYS_RESOURCE, which the apps never have, so no app can turn
dumps back on.  Windows has no RLIMIT_CORE: nothing is set there.

Not PR_SET_DUMPABLE 0: what it adds is refusing ptrace and /proc/<pid>/mem to other
processes of the same user, but those can read the key files in the data dir directly, and
the apps (the same user under a user's runtime) have ptrace and process_vm_readv refused
by their seccomp filter already.  tor sets it for itself (DisableDebuggerAttachment 1, its
default).
"""
from __future__ import annotations

try:
    import resource
except ImportError:  # Windows
    resource = None


def disable() -> bool:
    """Forbid core dumps for this process and its future children; False where the platform
    has no RLIMIT_CORE."""
    if resource is None:
        return False
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return True

"""Linux: resource limits (apaf.sandbox.limits), no_new_privs, the app's own uid when started as
root (apaf.sandbox.account), Landlock (files, TCP ports, signals), and the seccomp filter of
apaf.sandbox.seccomp; applied inside the app process, in that order.

Without Landlock (kernel < 5.13 or disabled at boot) the app still runs, with seccomp only,
and `apaf status --json` says so (sandbox.files / sandbox.network false). With Landlock
present, any failure to apply it stops the app: a half-built sandbox is never reported as one.
"""
from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

from apaf.sandbox import account, landlock, limits, seccomp
from apaf.sandbox.policy import Policy

_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT = 38, 24, 28, 47
_AMBIENT_CLEAR_ALL = 4
# NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE and their locks: uid 0
# gains no capability back, not even through execve.
_SECUREBITS = 0b11101111
# The same without NO_SETUID_FIXUP (its lock kept): setresuid() away from 0 then clears every
# capability, and nothing can turn that off again.
_SECUREBITS_BEFORE_DROP = 0b11101011
_CAP_VERSION_3 = 0x20080522


def probe() -> dict:
    """What this kernel offers (cheap: one syscall and one read of /proc)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    abi = landlock.abi()
    has_seccomp = "Seccomp_filters:" in status or "Seccomp:" in status
    return {
        "platform": "linux", "landlock_abi": abi, "seccomp": has_seccomp and seccomp.supported(),
        "no_new_privs": "NoNewPrivs:" in status,
        "files": abi >= 1, "network": abi >= 4 and seccomp.supported(),
        "signals": abi >= 6, "system_calls": has_seccomp and seccomp.supported(),
    }


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _prctl(libc, *args) -> None:
    if libc.prctl(*(ctypes.c_ulong(a) for a in args)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl{args[:2]}: {os.strerror(err)}")


def drop_capabilities(securebits: int = _SECUREBITS, capset: bool = True, libc=None,
                      last: int | None = None) -> None:
    """Uid 0 without any capability: file permissions apply to it as to any owner, no mount,
    no ptrace of others, no raw sockets, and nothing it executes gets them back.
    `libc` and `last` (the highest capability number) may be found beforehand: between fork and
    exec (tor_child_setup) neither dlopen nor a file read is safe to start."""
    libc = libc or ctypes.CDLL(None, use_errno=True)
    _prctl(libc, _PR_SET_SECUREBITS, securebits, 0, 0, 0)
    if last is None:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _prctl(libc, _PR_CAPBSET_DROP, cap, 0, 0, 0)
    _prctl(libc, _PR_CAP_AMBIENT, _AMBIENT_CLEAR_ALL, 0, 0, 0)
    data = (_CapData * 2)()
    if capset and libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def become_app_user(policy: Policy) -> list[str]:
    """As root: make what the app needs reachable by its uid (the runtime's choice, handed over
    in APAF_APP_UID), then run as that uid and gid for good."""
    started = time.perf_counter()
    uid = int(os.environ.get(account.UID_VAR) or account.app_uid(policy.app))
    notes = []
    opened = account.open_unpack_dirs()
    if opened:
        notes.append(f"unpack directories opened for reading (0755): {', '.join(opened)}")
    covered = account.expose(policy.read_only + policy.read_write + policy.executables, uid)
    if covered:
        notes.append(f"only the app's own paths are visible beneath {', '.join(covered)}")
    # The bounding set goes while root may still drop it; setresuid clears the rest.
    drop_capabilities(_SECUREBITS_BEFORE_DROP, capset=False)
    account.drop(uid)
    notes.append(f"started as root: running as uid {uid} gid {uid}, no capabilities "
                 f"(view and drop: {(time.perf_counter() - started) * 1000:.1f} ms)")
    return notes


def apply(policy: Policy) -> list[str]:
    """Confine this process for good; returns notes for the app's log (what is not enforced).

    Must run before the process starts a thread: Landlock and seccomp bind the calling
    thread and what it creates afterwards.
    """
    notes = limits.apply(own_uid=os.geteuid() == 0)  # root: the app gets its own uid below
    libc = ctypes.CDLL(None, use_errno=True)
    _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if os.geteuid() == 0:
        notes += become_app_user(policy)
    abi = landlock.abi()
    if abi >= 1:
        rs = landlock.Ruleset(abi)
        for path in policy.read_only:
            rs.allow_path(path, landlock.READ)
        for path in policy.read_write:
            rs.allow_path(path, landlock.READ | landlock.WRITE | landlock.IOCTL_DEV)
        for path in policy.executables:
            rs.allow_path(path, landlock.EXECUTE | landlock.READ_FILE)
        for port in policy.connect_ports:
            rs.allow_port(port, landlock.CONNECT_TCP)
        for port in policy.bind_ports:
            rs.allow_port(port, landlock.BIND_TCP)
        rs.restrict_self()
        if abi < 4:
            notes.append(f"Landlock ABI {abi} < 4: TCP ports are not restricted (seccomp still "
                         "allows TCP only)")
    else:
        notes.append("this kernel has no Landlock (Linux 5.13+ with lsm=landlock): files and TCP "
                     "ports are NOT restricted")
    if seccomp.supported():
        seccomp.install()
    else:
        notes.append("seccomp filter not available on this CPU architecture")
    return notes


def wrap_command(policy: Policy, argv: list[str]) -> list[str]:
    return argv  # applied inside the process (apaf.apps.launch), not around it


def listener():
    """The app's listening socket, held by the runtime and inherited (apaf.apps.handover)."""
    from apaf.apps.handover import InheritedSocket, unguessable_loopback
    return InheritedSocket(unguessable_loopback())  # not 127.0.0.1: see apaf.apps.handover


def tor_owner():
    """How a tor we start exits with us: __OwningControllerFD (apaf.tor.owner); a root runtime's
    tor also starts without capabilities (tor_child_setup)."""
    from apaf.tor.owner import OwnerSocket
    return OwnerSocket(preexec=tor_child_setup() if os.geteuid() == 0 else None)


def tor_child_setup():
    """The function a root runtime's tor runs before exec: no capability, none to regain.

    tor stays uid 0 (it owns D/tor and reads the bundle's 0700 unpack directory as owner), but
    without CAP_DAC_OVERRIDE, CAP_SYS_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, ...: other accounts'
    files are closed to it, it cannot mount, trace or load modules, and SECBIT_NOROOT keeps a
    program it executes (a pluggable transport) from getting them back. Its own uid, as apps get,
    would take more: tor's `User` wants a named account, and the bundle's tor binary lies
    beneath directories only root may cross."""
    libc = ctypes.CDLL(None, use_errno=True)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())

    def setup() -> None:
        _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        drop_capabilities(libc=libc, last=last)
    return setup


def watch_launchers(on_gone) -> list[int]:
    """The static bundle's staticx and PyInstaller launchers above the runtime: `on_gone` once one
    is killed, even by SIGKILL (apaf.launchers)."""
    from apaf import launchers
    return launchers.watch(launchers.launcher_pids(), on_gone)


_assigned: dict[str, int] = {}  # runtime side: app name -> its uid, for this runtime's life


def app_identity(name: str, dirs) -> dict[str, str]:
    """Runtime side, before each app process: a root runtime hands the app's own folders to the
    app's uid and tells the process which uid to drop to (become_app_user); else nothing."""
    if os.geteuid() != 0:
        return {}
    uid = _assigned.get(name) or account.app_uid(name, taken=set(_assigned.values()))
    _assigned[name] = uid  # the same uid on each restart; never another app's (red team: two shared one)
    for d in dirs:
        account.hand_over(d, uid)
    return {account.UID_VAR: str(uid)}


def drop_root(policy: Policy) -> list[str]:
    """With the sandbox off (debugging): still never root, still limited; notes for the app's log."""
    notes = limits.apply(own_uid=os.geteuid() == 0)
    return notes + (become_app_user(policy) if os.geteuid() == 0 else [])


def loopback_peer_uid(server: tuple, peer: tuple) -> int | None:
    """The uid of the process at the other end of a loopback TCP connection (the admin UI's
    one-time links, apaf.admin.peer); LookupError when its socket is not found."""
    from apaf.sandbox import proc_net
    return proc_net.peer_uid(server, peer)

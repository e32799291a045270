"""Apps never run as root: each app gets its own unprivileged uid/gid when the runtime is root.

    uid = app_uid("chat")           stable, in 61184-65519 (systemd's DynamicUser range)
    hand_over(path, uid)            runtime side: the app's data and temp dirs become the app's
    become(uid, paths)              app side, before Landlock: make `paths` reachable, then drop

Why a derived uid and not a created account: the runtime adds no line to /etc/passwd (a
double-click with sudo must not change the system), and the same app gets the same uid on
every start, so its data directory keeps its owner. The range is the one systemd keeps for
DynamicUser services, which no distribution hands to ordinary accounts; a number that /etc/passwd
names as a user, or /etc/group as a group, is skipped (the app's gid is its uid: a group's
number would make the app a member of that group).

Why a mount namespace: the app's Python, its code, its data directory may lie beneath a
directory the app's uid may not cross (/root is 0700; so is the data dir's root, which holds the
onion keys). Inside the app process only, each such directory is covered by an empty tmpfs
through which just the paths the app needs are bind-mounted: the app's uid reaches them, and
sees nothing else there (the keys, the admin password, root's home are not even listed).
"""
from __future__ import annotations

import ctypes
import grp
import os
import pwd
import stat
import sys
from collections.abc import Collection
from pathlib import Path

FIRST_UID, LAST_UID = 61184, 65519
UID_VAR = "APAF_APP_UID"  # the runtime's choice, handed to the app process

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x1, 0x20, 0x1000, 0x4000, 0x40000


def app_uid(name: str, taken: Collection[int] = ()) -> int:
    """The uid (and gid) app `name` runs as when the runtime is root; never one in `taken` (the
    runtime's other apps: two names can hash to the same number)."""
    # hashlib here, not at the top: every app process imports this module, and hashlib loads
    # OpenSSL's libcrypto; only the runtime derives uids.
    import hashlib

    span = LAST_UID - FIRST_UID + 1
    start = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % span
    for i in range(span):
        uid = FIRST_UID + (start + i) % span
        if uid in taken:
            continue
        try:
            pwd.getpwuid(uid)
        except KeyError:
            try:
                grp.getgrgid(uid)
            except KeyError:
                return uid
    raise RuntimeError(f"every number in {FIRST_UID}-{LAST_UID} is taken in /etc/passwd or /etc/group")


def hand_over(path: Path, uid: int) -> None:
    """Make `path` (a 0700 directory) and what is in it owned by uid:uid (runtime side, as root)."""
    st = path.stat()
    if (st.st_uid, st.st_gid) == (uid, uid):
        return
    os.chown(path, uid, uid, follow_symlinks=False)
    # By directory fd, never following a link: what the app left there cannot redirect a chown.
    for _, dirs, files, dir_fd in os.fwalk(path):
        for n in dirs + files:
            os.chown(n, uid, uid, dir_fd=dir_fd, follow_symlinks=False)


def _crossable(st: os.stat_result, uid: int) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == uid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def blocked_dirs(paths, uid: int) -> list[str]:
    """Directories above `paths` that `uid` may not cross, shallowest first."""
    wanted = {os.path.realpath(p) for p in paths if os.path.exists(p)}
    out = set()
    for p in wanted:
        # A wanted folder the uid may not enter (APAF_BINARIES made 0700 by root) is seen through
        # a cover too, holding just the wanted paths inside it (the programs, not the folder).
        if os.path.isdir(p) and not _crossable(os.stat(p), uid) and any(q.startswith(p + "/") for q in wanted):
            out.add(p)
        parent = os.path.dirname(p)
        while parent not in ("/", ""):
            if parent not in wanted and not _crossable(os.stat(parent), uid):
                out.add(parent)
            parent = os.path.dirname(parent)
    return sorted(out, key=lambda d: (d.count("/"), d))


def expose(paths, uid: int) -> list[str]:
    """In a new mount namespace of this process, cover each blocked directory with a tmpfs that
    holds only the way to `paths`. Returns the directories covered ([]: nothing to do)."""
    covered = blocked_dirs(paths, uid)
    if not covered:
        return []
    wanted = sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"apps never run as root, and app uid {uid} cannot reach what it needs "
                      f"beneath {', '.join(covered)}; making a private view of it needs a mount "
                      f"namespace, which this system refuses ({os.strerror(err)}: a container without "
                      f"CAP_SYS_ADMIN?). Start apaf as an ordinary user instead (docker run --user)")
    if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        # EINVAL: "/" is not a mount point (a chroot into a plain directory). The view's mounts
        # could then spread to the rest of the system through a shared parent mount: refuse.
        err = ctypes.get_errno()
        raise OSError(err, f"apps never run as root, and app uid {uid} needs a private view of "
                      f"{', '.join(covered)}; it cannot be kept private here (mount --make-rprivate /: "
                      f"{os.strerror(err)}: the root is not a mount point, as in a chroot into a plain "
                      f"directory). Make the root a mount point (mount --bind ROOT ROOT before chroot, "
                      f"as containers do), or start apaf as an ordinary user")
    for d in covered:
        ways = sorted({p[len(d) + 1:].split("/", 1)[0] for p in wanted if p.startswith(d + "/")})
        fds = {n: os.open(os.path.join(d, n), os.O_PATH | os.O_CLOEXEC) for n in ways}
        try:
            _check(libc.mount(b"apaf-view", d.encode(), b"tmpfs", 0, b"mode=0711,size=64k"), f"mount tmpfs on {d}")
            for n, fd in fds.items():
                target = os.path.join(d, n)
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.mkdir(target, 0o755)
                else:
                    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
                _check(libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, _MS_BIND | _MS_REC, None),
                       f"bind {target}")
        finally:
            for fd in fds.values():
                os.close(fd)
        _check(libc.mount(None, d.encode(), None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None), f"remount {d} read-only")
    os.chdir(os.getcwd())  # the working directory, seen through the new mounts
    return covered


def open_unpack_dirs() -> list[str]:
    """The frozen bundle's own unpack directories (PyInstaller's, staticx's) are 0700 root, and
    so are the folders PyInstaller makes inside: the program's public code, which the app's uid
    must read (Python imports and loads libraries from there lazily). Returns those opened."""
    dirs = [getattr(sys, "_MEIPASS", ""), os.environ.get("STATICX_BUNDLE_DIR", "")]
    opened = []
    for top in filter(None, dirs):
        st = os.stat(top)
        if st.st_uid != 0 or stat.S_IMODE(st.st_mode) & 0o055 == 0o055:
            continue
        for root, _, files in os.walk(top):
            _readable(root, 0o055)
            for n in files:
                p = os.path.join(root, n)
                if not os.path.islink(p):
                    _readable(p, 0o044 | (0o011 if os.stat(p).st_mode & stat.S_IXUSR else 0))
        opened.append(top)
    return opened


def _readable(path: str, bits: int) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & bits != bits:
        os.chmod(path, (mode | bits) & ~0o022)  # read and execute for others; never write


def drop(uid: int) -> None:
    """setgroups([]) + setresgid + setresuid: the kernel clears every capability on the way
    (the caller must not have set SECBIT_NO_SETUID_FIXUP); checked, not assumed."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    status = Path("/proc/self/status").read_text()
    caps = {ln.split(":")[0]: int(ln.split()[1], 16) for ln in status.splitlines() if ln.startswith("Cap")}
    if os.getresuid() != (uid, uid, uid) or caps.get("CapEff") or caps.get("CapPrm"):
        raise OSError(f"dropping to uid {uid} left {os.getresuid()} with capabilities {caps}")

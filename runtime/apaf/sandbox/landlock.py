"""Landlock through its three system calls (ctypes): probe the ABI, build a ruleset, restrict self.

Why not a PyPI binding: the `landlock` package is a pre-release without the TCP (ABI 4) and
scope (ABI 6) rules we rely on, and the static bundle has no libc headers to build one; the
kernel interface is three syscalls and two packed structs (include/uapi/linux/landlock.h).

    abi()                               0 when the kernel has no Landlock (or it is disabled)
    rs = Ruleset(abi)                   handles every access right this ABI knows
    rs.allow_path("/usr/lib", READ)     read-only beneath a directory (or on one file)
    rs.allow_port(9050, CONNECT_TCP)    ABI >= 4
    rs.restrict_self()                  irreversible; needs no_new_privs first
"""
from __future__ import annotations

import ctypes
import os

# x86_64 and aarch64 share these numbers (Landlock came after the generic table).
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
BIND_TCP, CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = READ_FILE | READ_DIR
WRITE = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO
         | MAKE_SYM | REFER | TRUNCATE)
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # rights a rule on a file may carry

_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}


def fs_rights(abi: int) -> int:
    """Every file-system right the given ABI can restrict."""
    return _FS_BY_ABI[max(k for k in _FS_BY_ABI if k <= abi)] if abi >= 1 else 0


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(*args) -> int:
    ret = _libc.syscall(*args)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def abi() -> int:
    """The kernel's Landlock ABI version, 0 if Landlock is absent or disabled at boot."""
    # os.uname(), not platform.machine(): the same answer, without the platform module in
    # every app process's memory.
    if os.uname().machine not in ("x86_64", "aarch64"):
        return 0
    try:
        return _syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except OSError:  # ENOSYS: not built in; EOPNOTSUPP: not enabled (lsm= boot option)
        return 0


class Ruleset:
    """A ruleset that handles every right `abi` knows: whatever no rule allows is denied."""

    def __init__(self, abi_version: int):
        self.abi = abi_version
        self.fs = fs_rights(abi_version)
        self.net = BIND_TCP | CONNECT_TCP if abi_version >= 4 else 0
        self.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi_version >= 6 else 0
        attr = _RulesetAttr(self.fs, self.net, self.scoped)
        size = ctypes.sizeof(attr) if abi_version >= 6 else 16 if abi_version >= 4 else 8
        self.fd = _syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))

    def allow_path(self, path: str, access: int) -> bool:
        """Allow `access` beneath `path`; False (nothing added) when the path does not exist."""
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            if not os.path.isdir(f"/proc/self/fd/{fd}"):
                access &= FILE_ONLY
            rule = _PathBeneath(access & self.fs, fd)
            _syscall(_SYS_ADD_RULE, self.fd, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0))
        finally:
            os.close(fd)
        return True

    def allow_port(self, port: int, access: int) -> None:
        if self.net:
            rule = _NetPort(access & self.net, port)
            _syscall(_SYS_ADD_RULE, self.fd, _RULE_NET_PORT, ctypes.byref(rule), ctypes.c_uint32(0))

    def restrict_self(self) -> None:
        """Confine this thread (and what it starts) for good; call before any other thread exists."""
        try:
            _syscall(_SYS_RESTRICT, self.fd, ctypes.c_uint32(0))
        finally:
            os.close(self.fd)

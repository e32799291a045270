"""A seccomp-BPF filter written directly: a deny list of system calls, and allow lists for the
arguments of socket(), socketpair(), clone(), prctl(), personality() and prlimit64().

Why not libseccomp: its Python bindings (Debian's python3-seccomp, pyseccomp) need
libseccomp.so at run time, which the static bundle does not carry; the filter we need is a
straight line of comparisons, generated here from a few tables and checked by unit tests that
run it in the kernel. A refused call returns EPERM (the app sees an OSError and keeps running);
clone3 returns ENOSYS, so the C library falls back to clone(), whose flags the filter can read.

    install(deny_syscalls=DENIED)     no_new_privs must be set first; applies to this thread
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct

# BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS, _JEQ_K, _JGE_K, _AND_K, _RET_K = 0x20, 0x15, 0x35, 0x54, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _MODE_FILTER = 38, 22, 2
# struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6] (little endian: low half first)
_NR, _ARCH, _ARG0, _ARG1, _ARG2 = 0, 4, 16, 24, 32
_X32_BIT = 0x40000000

# System calls no app needs and that reach other processes, the kernel or the mount table.
DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load", "init_module",
    "finit_module", "delete_module", "unshare", "setns", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "userfaultfd",
    # io_uring performs socket and file operations that this filter would never see
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # a memfd holding a copy of any program runs by execveat(fd, "", AT_EMPTY_PATH): Landlock
    # checks execute rights on paths, so "only the listed programs" would not hold
    "execveat",
    # copies a file descriptor out of another process (the runtime's: tor's owning control
    # connection, the other apps' listening sockets) where Landlock does not scope ptrace
    "pidfd_getfd",
)

_ARCHES = {
    "x86_64": (0xC000003E, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165,
        "umount2": 166, "pivot_root": 155, "keyctl": 250, "add_key": 248, "request_key": 249,
        "bpf": 321, "perf_event_open": 298, "kexec_load": 246, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "unshare": 272, "setns": 308,
        "userfaultfd": 323, "execveat": 322, "socket": 41, "socketpair": 53, "clone": 56,
        "prctl": 157, "personality": 135, "prlimit64": 302}),
    "aarch64": (0xC00000B7, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40,
        "umount2": 39, "pivot_root": 41, "keyctl": 219, "add_key": 217, "request_key": 218,
        "bpf": 280, "perf_event_open": 241, "kexec_load": 104, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "unshare": 97, "setns": 268,
        "userfaultfd": 282, "execveat": 281, "socket": 198, "socketpair": 199, "clone": 220,
        "prctl": 167, "personality": 92, "prlimit64": 261}),
}
# Same numbers on every architecture (added after the tables were unified).
_COMMON = {"open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
           "fspick": 433, "mount_setattr": 442, "io_uring_setup": 425, "io_uring_enter": 426,
           "io_uring_register": 427, "clone3": 435, "pidfd_getfd": 438}

# clone() may not make namespaces: unshare and setns are denied above, and clone with these
# flags would make the same new user (then any) namespace: the kernel's widest attack surface
# for an unprivileged process. NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET.
_CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
# clone3 passes its flags in memory, which a filter cannot read: it gets ENOSYS, and the C
# library then creates the thread or process with clone(), which the filter checks.
_CLONE3_ERRNO = errno.ENOSYS

# socket(): TCP over IPv4/IPv6 only. No UDP (so no DNS), no raw or packet sockets, no
# AF_NETLINK (nothing an app does needs it: addresses are numeric), no AF_UNIX (the way to
# tor's control socket). socketpair() stays allowed for AF_UNIX stream pairs only: asyncio's
# self-pipe uses one; a datagram pair could sendto() any Unix datagram socket by its path
# (Landlock does not govern that), a connected stream pair cannot reach another socket.
SOCKET_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_TYPE_MASK = ~(socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC) & 0xFFFFFFFF

# personality(): only the default persona (0) or the query (0xffffffff). Another persona could
# turn off address-space randomisation (ADDR_NO_RANDOMIZE) for what the app executes next.
PERSONALITIES = (0, 0xFFFFFFFF)
# prctl(): only these options, which read state, name threads, or only narrow what the process
# may do (CPython, glibc, aiohttp and the bundled programs use no other). Refused among the rest:
# PR_SET_MM (rewrite its own memory map's bounds), PR_SET_PTRACER (let another process trace
# it), PR_SET_DUMPABLE 1 (make it readable through /proc again), PR_SET_CHILD_SUBREAPER,
# PR_SET_SYSCALL_USER_DISPATCH, PR_SET_SPECULATION_CTRL, PR_SET_KEEPCAPS, PR_SET_SECUREBITS.
PRCTL_ALLOWED = (
    1, 2, 3,            # PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE
    7, 15, 16,          # PR_GET_KEEPCAPS, PR_SET_NAME, PR_GET_NAME
    21, 22, 23, 27,     # PR_GET_SECCOMP, PR_SET_SECCOMP (only adds filters), PR_CAPBSET_READ, PR_GET_SECUREBITS
    29, 30, 37,         # PR_SET/GET_TIMERSLACK, PR_GET_CHILD_SUBREAPER
    38, 39, 40,         # PR_SET/GET_NO_NEW_PRIVS, PR_GET_TID_ADDRESS
    41, 42, 46, 47,     # PR_SET/GET_THP_DISABLE, PR_GET_FP_MODE, PR_CAP_AMBIENT (no capability to raise)
    51, 52, 55, 56,     # PR_SVE_GET_VL, PR_GET_SPECULATION_CTRL, PR_SET/GET_TAGGED_ADDR_CTRL (aarch64 libc)
    65, 66,             # PR_SET_MDWE (only narrows), PR_GET_MDWE
    0x53564D41,         # PR_SET_VMA (glibc names its anonymous mappings)
    0x41555856,         # PR_GET_AUXV
)
_PR_SET_DUMPABLE = 4    # allowed with 0 only: a process may make itself less inspectable
# prlimit64(): only on the caller itself (pid 0, what glibc's getrlimit and setrlimit pass).
# With another pid it reaches any process of the same uid, which under a user's runtime is the
# runtime itself (the app's parent) and tor: RLIMIT_CPU 1 would have the kernel kill them, a
# raised RLIMIT_CORE would let their memory (onion keys) reach a core file.


def supported() -> bool:
    return os.uname().machine in _ARCHES  # platform.machine(), without importing platform


def program(deny: tuple[str, ...] = DENIED, machine: str | None = None, deny_errno: int = errno.EPERM) -> bytes:
    """The filter as packed `struct sock_filter` entries, for `machine` (default: this one)."""
    arch, table = _ARCHES[machine or os.uname().machine]
    numbers = {**table, **_COMMON}
    deny_ret = _RET_ERRNO | deny_errno
    code: list[tuple[int, int, int, int]] = []  # (op, jt, jf, k); jumps are filled in below

    def op(o, k, jt=0, jf=0):
        code.append((o, jt, jf, k))

    # Layout: [arch check][nr checks][socket checks][clone checks][socketpair checks][prctl
    # checks][personality checks][prlimit64 check][ALLOW][DENY][NOSYS]; jumps target labelled
    # instructions.
    ALLOW, DENY, NOSYS = "allow", "deny", "nosys"
    labels: list[tuple[int, object, object]] = []  # (index, jt label, jf label)

    def jump(o, k, jt, jf):
        labels.append((len(code), jt, jf))
        op(o, k)

    op(_LD_W_ABS, _ARCH)
    jump(_JEQ_K, arch, None, DENY)               # another ABI (e.g. 32-bit int 0x80) is refused
    op(_LD_W_ABS, _NR)
    jump(_JGE_K, _X32_BIT, DENY, None)           # x32 syscall numbers are refused
    for name in deny:
        jump(_JEQ_K, numbers[name], DENY, None)
    jump(_JEQ_K, numbers["clone3"], NOSYS, None)
    jump(_JEQ_K, numbers["clone"], "clone", None)
    jump(_JEQ_K, numbers["socketpair"], "pair", None)
    jump(_JEQ_K, numbers["prctl"], "prctl", None)
    jump(_JEQ_K, numbers["personality"], "persona", None)
    jump(_JEQ_K, numbers["prlimit64"], "limits", None)
    jump(_JEQ_K, numbers["socket"], None, ALLOW)
    op(_LD_W_ABS, _ARG0)
    for i, fam in enumerate(SOCKET_FAMILIES):
        last = i == len(SOCKET_FAMILIES) - 1
        jump(_JEQ_K, fam, "type", DENY if last else None)
    type_at = len(code)
    op(_LD_W_ABS, _ARG1)
    op(_AND_K, _TYPE_MASK)
    jump(_JEQ_K, socket.SOCK_STREAM, None, DENY)
    op(_LD_W_ABS, _ARG2)
    jump(_JEQ_K, 0, ALLOW, None)
    jump(_JEQ_K, socket.IPPROTO_TCP, ALLOW, DENY)
    clone_at = len(code)
    op(_LD_W_ABS, _ARG0)                         # flags (their low half holds every CLONE_NEW*)
    op(_AND_K, _CLONE_NAMESPACES)
    jump(_JEQ_K, 0, ALLOW, DENY)
    pair_at = len(code)
    op(_LD_W_ABS, _ARG0)
    jump(_JEQ_K, socket.AF_UNIX, None, DENY)
    op(_LD_W_ABS, _ARG1)
    op(_AND_K, _TYPE_MASK)
    jump(_JEQ_K, socket.SOCK_STREAM, ALLOW, DENY)
    prctl_at = len(code)
    op(_LD_W_ABS, _ARG0)                         # option (an int: the low half)
    for option in PRCTL_ALLOWED:
        jump(_JEQ_K, option, ALLOW, None)
    jump(_JEQ_K, _PR_SET_DUMPABLE, None, DENY)
    op(_LD_W_ABS, _ARG1)
    jump(_JEQ_K, 0, None, DENY)
    op(_LD_W_ABS, _ARG1 + 4)
    jump(_JEQ_K, 0, ALLOW, DENY)
    persona_at = len(code)
    op(_LD_W_ABS, _ARG0)                         # persona (an unsigned int: the low half)
    for i, persona in enumerate(PERSONALITIES):
        jump(_JEQ_K, persona, ALLOW, DENY if i == len(PERSONALITIES) - 1 else None)
    limits_at = len(code)
    op(_LD_W_ABS, _ARG0)                         # pid (a pid_t: the low half)
    jump(_JEQ_K, 0, ALLOW, DENY)
    allow_at = len(code)
    op(_RET_K, _RET_ALLOW)
    deny_at = len(code)
    op(_RET_K, deny_ret)
    nosys_at = len(code)
    op(_RET_K, _RET_ERRNO | _CLONE3_ERRNO)

    targets = {ALLOW: allow_at, DENY: deny_at, NOSYS: nosys_at, "type": type_at, "clone": clone_at,
               "pair": pair_at, "prctl": prctl_at, "persona": persona_at, "limits": limits_at}
    out = []
    for i, (o, jt, jf, k) in enumerate(code):
        for at, tl, fl in labels:
            if at == i:
                jt = targets[tl] - i - 1 if tl else 0
                jf = targets[fl] - i - 1 if fl else 0
                if not (0 <= jt < 256 and 0 <= jf < 256):
                    raise ValueError("seccomp filter too long for a conditional jump")
        out.append(struct.pack("HBBI", o, jt, jf, k))
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(deny: tuple[str, ...] = DENIED) -> None:
    """Load the filter for this thread and its children; no_new_privs is set here too."""
    libc = ctypes.CDLL(None, use_errno=True)
    code = program(deny)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    for args in ((_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), (_PR_SET_SECCOMP, _MODE_FILTER, ctypes.addressof(prog), 0, 0)):
        if libc.prctl(*(ctypes.c_ulong(a) for a in args)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl{args[:2]}: {os.strerror(err)}")

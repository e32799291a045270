"""Refusals in the app's log: a Python audit hook that names each call the sandbox refuses.

The kernel enforces (Landlock, seccomp); this hook only reports, from the same Policy, so
the owner sees in the admin UI's app log what the app tried. It sees calls made through
Python (open, sockets, subprocess, exec); a call made around Python (ctypes, a C library)
is still refused by the kernel, just not named here.
"""
from __future__ import annotations

import os
import socket
import sys

from apaf.sandbox.policy import Policy

PREFIX = "apaf sandbox: refused"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_INET = (socket.AF_INET, socket.AF_INET6)
_TYPE_MASK = ~(socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)


def _path(p) -> str | None:
    if isinstance(p, int) or p is None:
        return None
    return os.path.abspath(os.fsdecode(p))


def _open(policy: Policy, path, mode, flags) -> str | None:
    path = _path(path)
    if path is None:
        return None
    writing = bool((flags or 0) & _WRITE_FLAGS) or any(c in (mode or "") for c in "wax+")
    if writing and not policy.may_write(path):
        return f"write {path}: outside the app's data and temp directories"
    if not writing and not policy.may_read(path):
        why = ("the runtime's status file needs privilege tor-status" if path == policy.status_file
               else "outside what the app may read")
        return f"read {path}: {why}"
    return None


def _socket(policy: Policy, family, type_, proto) -> str | None:
    if family in _INET and (type_ & _TYPE_MASK) == socket.SOCK_STREAM and proto in (0, socket.IPPROTO_TCP):
        return None
    kind = {socket.SOCK_DGRAM: "UDP", socket.SOCK_RAW: "raw", socket.SOCK_STREAM: "stream"}.get(
        type_ & _TYPE_MASK, f"type {type_}")
    try:
        fam = socket.AddressFamily(family).name
    except ValueError:
        fam = str(family)
    return f"socket({fam}, {kind}): apps may open TCP connections only (no DNS, no UDP, no raw sockets)"


def _address_port(sock, address):
    if getattr(sock, "family", None) in _INET and isinstance(address, tuple) and len(address) >= 2:
        return address[0], address[1]
    return None


def _connect(policy: Policy, sock, address) -> str | None:
    hp = _address_port(sock, address)
    if hp and not policy.may_connect(hp[1]):
        need = "" if policy.connect_ports else " (privilege outbound-tor grants the Tor SOCKS port)"
        return f"connect to {hp[0]}:{hp[1]}: only the Tor SOCKS port is reachable{need}"
    return None


def _bind(policy: Policy, sock, address) -> str | None:
    hp = _address_port(sock, address)
    if hp and not policy.may_bind(hp[1]):
        return (f"bind to {hp[0]}:{hp[1]}: apps bind no port; serve on the socket the runtime "
                "holds (apaf.listening_socket())")
    return None


def _exec(policy: Policy, program) -> str | None:
    if program is None:
        return None
    prog = os.fsdecode(program)
    # shutil only when an app runs a program: it imports bz2, lzma and zlib, which every app
    # process would otherwise carry.
    import shutil

    found = prog if "/" in prog else (shutil.which(prog) or prog)
    if not policy.may_execute(found):
        return f"execute {found}: not a binary this app's manifest lists (extra_binaries + run-binaries)"
    return None


def check(policy: Policy, event: str, args: tuple) -> str | None:
    """The refusal message for one audit event, or None if the policy allows it."""
    if event == "open":
        return _open(policy, *args[:3])
    if event in ("os.listdir", "os.scandir"):
        path = _path(args[0])
        return None if path is None or policy.may_read(path) else f"list {path}: outside what the app may read"
    if event == "socket.__new__":
        return _socket(policy, *args[1:4])
    if event == "socket.connect":
        return _connect(policy, *args[:2])
    if event == "socket.bind":
        return _bind(policy, *args[:2])
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable is None and argv:
            executable = argv[0] if isinstance(argv, (list, tuple)) else argv
        return _exec(policy, executable)
    if event in ("os.exec", "os.posix_spawn"):
        return _exec(policy, args[0])
    if event == "os.system":
        return _exec(policy, "/bin/sh")
    return None


# socket.py functions that wrap a socket the kernel already made (socketpair, accept, ...):
# Python raises "socket.__new__" for the wrapper too, with nothing to tell it from a new one.
_WRAPPERS = {"socketpair", "fromfd", "accept", "dup", "_fromfd"}


def _wraps_existing(frame) -> bool:
    """True if the socket being made wraps an existing one (socket.__init__ called by a wrapper)."""
    while frame is not None and frame.f_globals.get("__name__") == "socket":  # also when frozen
        if frame.f_code.co_name in _WRAPPERS:
            return True
        frame = frame.f_back
    return False


def install(policy: Policy, stream=None) -> None:
    """Log every refused call to `stream` (default: stderr, which is the app's log file)."""
    busy = False

    def hook(event: str, args: tuple) -> None:
        nonlocal busy
        if busy or not (event == "open" or event.startswith(("socket.", "os.", "subprocess."))):
            return
        if event == "socket.__new__" and _wraps_existing(sys._getframe(1)):
            return
        busy = True
        try:
            message = check(policy, event, args)
            if message:
                out = stream or sys.stderr
                out.write(f"{PREFIX} {message}\n")
                out.flush()
        except Exception:  # a reporting hook must never break the call it watches
            pass
        finally:
            busy = False

    sys.addaudithook(hook)

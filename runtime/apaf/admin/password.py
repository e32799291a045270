"""The admin password: generated at first boot, kept only as a scrypt hash (0600).

Hash format (one line in ``D/admin/password``)::

    scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>

Parameters: n=2**15, r=8, p=1, 16-byte random salt, 32-byte key (about 32 MiB of
memory and a few tens of milliseconds per check: slow for an attacker with the file,
fast enough for a login).  They are stored with each hash, so they can be raised
later without invalidating old hashes.  Checking waits for a child process: async
callers should run ``verify`` in an executor.

At first boot the admin UI must answer before the hash is written (hashing takes 0.1 s
on an idle machine, several tenths under load): ``PasswordStore.set_soon`` hashes in a
thread, and every later ``check``, ``set`` and ``wait`` waits for that write first, so a
login with the new password never races it and nothing overwrites a newer password.

scrypt runs in a short-lived child process (apaf/scrypt_child.py): only OpenSSL provides it,
and its libcrypto (~3.5 MB of RSS, never unloaded) and the 32 MiB it works in then never
enter the runtime. The password reaches the child on stdin; the key comes back on stdout and
is compared here, in constant time. A child that fails (killed, out of memory, no binary,
``CHILD_TIMEOUT`` exceeded) raises ``PasswordHashError``, never a match.
"""
from __future__ import annotations

import base64
import hmac
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

from apaf import scrypt_child
from apaf.errors import ApafError
from apaf.fsutil import atomic_write, ensure_private_dir

N, R, P = 2**15, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_KEY_BYTES = 16  # a stored key shorter than this is damaged or planted: never a match
MIN_LENGTH = 10
# scrypt needs 128*r*n bytes; leave headroom over OpenSSL's 32 MiB default limit.
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PasswordHashError(ApafError):
    """The scrypt child process failed: no password can be set or checked until it works."""


# Far above a check's 0.1-1 s, even on a loaded machine: a child this late is stuck, and a
# login must not wait for it forever.
CHILD_TIMEOUT = 60.0
# What a bundle's re-executed self needs of our environment (apaf/apps/process.py INHERITED
# says why): its bootloaders' variables, and Windows' own. Nothing else: the child needs none.
_CHILD_ENV = ("LD_LIBRARY_PATH", "LD_LIBRARY_PATH_ORIG", "SYSTEMROOT", "WINDIR")
_CHILD_ENV_PREFIXES = ("_PYI_", "STATICX_")


def child_command() -> list[str]:
    """The argv of one scrypt child: the frozen bundle itself, or this Python on the file."""
    if getattr(sys, "frozen", False):
        return [sys.executable, scrypt_child.FLAG]
    # -I: no PYTHON* variables, no user site, not even the script's folder on sys.path; -S: no
    # site at all. The child needs only the standard library, and starts in 13 ms, not 27.
    return [sys.executable, "-I", "-S", scrypt_child.__file__]


def _child_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k in _CHILD_ENV or k.startswith(_CHILD_ENV_PREFIXES)}


def _failure(proc: subprocess.CompletedProcess) -> str:
    if proc.returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-proc.returncode).name}"
        except ValueError:
            how = f"was killed by signal {-proc.returncode}"
        if proc.returncode == -signal.SIGKILL:
            how += " (out of memory? scrypt needs about 40 MB)"
    else:
        how = f"exited with status {proc.returncode}"
    last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
    return f"the admin password's scrypt process {how}{': ' + last[0] if last else ''}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    request = f"{n} {r} {p} {_MAXMEM} {dklen} {salt.hex()}\n".encode("ascii") + password.encode("utf-8")
    command = child_command()
    try:
        proc = subprocess.run(command, input=request, capture_output=True, timeout=CHILD_TIMEOUT,
                              env=_child_environment())
    except subprocess.TimeoutExpired:
        raise PasswordHashError(f"the admin password's scrypt process ({command[0]}) did not answer "
                                f"in {CHILD_TIMEOUT:.0f} s and was killed; is the machine "
                                "overloaded or out of memory? Try again once it is not.") from None
    except OSError as err:
        raise PasswordHashError(f"cannot start the admin password's scrypt process {command}: {err}; "
                                "reinstall apaf (or the bundle) if it is missing") from None
    if proc.returncode == scrypt_child.BAD_PARAMETERS:
        raise ValueError(proc.stderr.decode("utf-8", "replace").strip())
    if proc.returncode != 0:
        raise PasswordHashError(_failure(proc))
    try:
        key = bytes.fromhex(proc.stdout.decode("ascii"))
    except ValueError:
        key = b""
    if len(key) != dklen:  # never compared: a short or garbled answer is a failure, not a key
        raise PasswordHashError(f"the admin password's scrypt process gave {len(proc.stdout)} bytes "
                                f"that are not a {dklen}-byte key")
    return key


def hash_password(password: str) -> str:
    """A self-describing scrypt hash of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, N, R, P, KEY_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, key = stored.strip().split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        if len(expected) < MIN_KEY_BYTES:  # an empty key would match any child's empty answer
            return False
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:  # malformed file or parameters: never a match
        return False
    return hmac.compare_digest(got, expected)


def generate() -> str:
    """A random first-boot password (20 URL-safe characters, 120 bits)."""
    return secrets.token_urlsafe(15)


def check_new(password: str, confirm: str) -> str | None:
    """Why ``password`` cannot be the new password, or None when it is acceptable."""
    if password != confirm:
        return "The new password and its confirmation differ."
    if len(password) < MIN_LENGTH:
        return f"The new password must have at least {MIN_LENGTH} characters."
    return None


class PasswordStore:
    """The hash file ``<data_dir>/admin/password``: directory 0700, file 0600, atomic writes."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "admin" / "password"
        self._pending: threading.Thread | None = None
        self._error: BaseException | None = None

    def exists(self) -> bool:
        return self._pending is not None or self.path.is_file()

    def set_soon(self, password: str) -> None:
        """Start hashing and saving ``password`` in a thread (it waits on the scrypt child)."""
        ensure_private_dir(self.path.parent)  # a folder we cannot write fails here, at start

        def write() -> None:
            try:
                self._write(password)
            except BaseException as err:  # raised again by wait(): never a silent loss
                self._error = err

        self._pending = threading.Thread(target=write, name="apaf-admin-password")
        self._pending.start()

    def wait(self) -> None:
        """Return once a ``set_soon`` write is on disk; raise its error if it failed."""
        pending = self._pending
        if pending is not None:
            pending.join()
            self._pending = None
        if self._error is not None:
            raise self._error

    def tighten(self) -> None:
        """Force 0700/0600 on an existing hash (a restored backup may be world-readable)."""
        if self.exists():
            ensure_private_dir(self.path.parent)
            if self.path.stat().st_mode & 0o777 != 0o600:
                os.chmod(self.path, 0o600)

    def set(self, password: str) -> None:
        self.wait()  # a first-boot write still running must not land after this one
        self._write(password)

    def _write(self, password: str) -> None:
        ensure_private_dir(self.path.parent)
        atomic_write(self.path, hash_password(password) + "\n", mode=0o600)

    def check(self, password: str) -> bool:
        self.wait()
        try:
            stored = self.path.read_text("utf-8")
        except FileNotFoundError:
            return False
        return verify(password, stored)

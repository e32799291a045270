"""The admin password's scrypt, run in a short-lived process of its own (apaf.admin.password).

scrypt exists only in OpenSSL's libcrypto (~3.5 MB of RSS once loaded, and never unloaded):
hashing in a child that exits right after keeps it, and scrypt's 32 MiB, out of the runtime.

Protocol (stdin, never argv or the environment: /proc/PID/cmdline is readable by every local
user): one line ``<n> <r> <p> <maxmem> <dklen> <salt, hex>``, then the password's bytes up
to the end of input. Answer: the key in hex and a newline on stdout, exit 0. Parameters
OpenSSL refuses: exit ``BAD_PARAMETERS``, the reason on stderr; any other failure: another
non-zero exit. The parent alone compares keys.

Started as ``python -I -S <this file>`` from a source tree (no site, no apaf package) or as
``<bundle> --apaf-scrypt`` from a frozen bundle (bundle_main.py, apaf.cli), so only the
standard library's hashlib is imported. Nothing here may import apaf.
"""
import sys

FLAG = "--apaf-scrypt"
BAD_PARAMETERS = 65  # sysexits EX_DATAERR: no Python or apaf failure exits with it


def main() -> int:
    header, _, password = sys.stdin.buffer.read().partition(b"\n")
    try:
        n, r, p, maxmem, dklen, salt = header.decode("ascii").split(" ")  # salt may be empty
        numbers = {"n": int(n), "r": int(r), "p": int(p), "maxmem": int(maxmem), "dklen": int(dklen)}
        salt_bytes = bytes.fromhex(salt)
    except ValueError as err:
        print(f"apaf scrypt: unreadable request ({err})", file=sys.stderr)
        return 2
    import hashlib

    if not hasattr(hashlib, "scrypt"):
        print(f"apaf scrypt: this Python ({sys.executable}) has no hashlib.scrypt: it was built "
              "without OpenSSL; use a Python built with it", file=sys.stderr)
        return 2
    try:
        key = hashlib.scrypt(password, salt=salt_bytes, **numbers)
    except (ValueError, TypeError, OverflowError) as err:  # n, r, p, maxmem or dklen refused
        print(f"apaf scrypt: {err}", file=sys.stderr)
        return BAD_PARAMETERS
    sys.stdout.write(key.hex() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The static bundle stays small (issue 15): one copy of OpenSSL, no dead weight from stem or
frozenlist. The breakdown behind these figures: `ci/farm bench --only bundle`.

Wall time: ~1 s once the session's bundle exists.
"""
from __future__ import annotations

import subprocess

import pytest

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)

AIM = 20_000_000     # bytes, tor and everything else included


def test_the_static_chat_bundle_is_at_most_20_mb(chat_bundle):
    size = chat_bundle.files["static"].stat().st_size
    assert size <= AIM, f"{size / 1e6:.2f} MB; see `ci/farm bench --only bundle` for where it goes"


def test_ssl_and_hashlib_work_from_the_interpreter_that_is_frozen(chat_bundle):
    """Built into libpython (one OpenSSL): the modules an app and the runtime's scrypt use still import."""
    cpython = next(s for s in chat_bundle.summary.steps if s.id.startswith("cpython@"))
    python = f"{cpython.out}/bin/python3.13"
    code = ("import hashlib, ssl, sys; assert {'_ssl', '_hashlib'} <= set(sys.builtin_module_names); "
            "hashlib.scrypt(b'pw', salt=b's' * 16, n=2**14, r=8, p=1); "
            "print(ssl.create_default_context().protocol, ssl.OPENSSL_VERSION)")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "OpenSSL 3." in proc.stdout

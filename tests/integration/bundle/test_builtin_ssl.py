"""What the bundle-size work (issue 15) must not break: _ssl and _hashlib built into libpython
(one copy of OpenSSL) still work. The size and its breakdown are figures, printed by
`ci/farm bench --only bundle` against the 20 MB aim, not asserted here.

Wall time: ~1 s once the session's toolchain exists.
"""
from __future__ import annotations

import subprocess

import pytest

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)

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

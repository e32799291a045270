"""The linux-x86_64 toolchain built from pinned sources: what a release engineer checks."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from builders.sources.manifest import load_manifest

pytestmark = pytest.mark.slow
PINS = load_manifest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tor(linux_toolchain) -> Path:
    return Path(linux_toolchain.outputs["tor"]) / "bin" / "tor"


@pytest.fixture(scope="module")
def python(linux_toolchain) -> Path:
    return Path(linux_toolchain.outputs["cpython"]) / "bin" / "python3.13"


def test_tor_is_fully_static(tor):
    out = subprocess.run(["file", "-b", str(tor)], capture_output=True, text=True, check=True).stdout
    assert "statically linked" in out, out
    assert "interpreter" not in out, out
    readelf = subprocess.run(["readelf", "-l", str(tor)], capture_output=True, text=True).stdout
    assert "INTERP" not in readelf


def test_tor_version_names_pinned_libraries(tor):
    out = subprocess.run([str(tor), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Tor version {PINS['tor'].version}" in out
    lib = subprocess.run([str(tor), "--library-versions"], capture_output=True, text=True, check=True).stdout
    # tor prints "<Library>\t<compiled version>\t<running version>" lines.
    rows = {line.split()[0]: line.split()[1:] for line in lib.splitlines() if line.strip()}
    assert rows["Libevent"][0] == PINS["libevent"].version, lib
    assert rows["OpenSSL"][0].startswith(PINS["openssl"].version), lib
    assert rows["Zlib"][0] == PINS["zlib"].version, lib


def test_tor_starts_with_minimal_torrc_and_stops_cleanly(tor, tmp_path):
    from stem.control import Controller

    port = _free_port()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    torrc = tmp_path / "torrc"
    # No network here: DisableNetwork keeps tor from trying to bootstrap.
    torrc.write_text(f"DataDirectory {data}\nControlPort 127.0.0.1:{port}\nCookieAuthentication 1\n"
                     "SocksPort 0\nDisableNetwork 1\nLog notice stdout\n")
    proc = subprocess.Popen([str(tor), "-f", str(torrc)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ctl = Controller.from_port(address="127.0.0.1", port=port)
                break
            except Exception:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "control port never opened"
                time.sleep(0.2)
        with ctl:
            ctl.authenticate()
            assert ctl.get_version().version_str.startswith(PINS["tor"].version)
            ctl.signal("HALT")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cpython_runs_with_its_own_libraries(python):
    code = ("import ssl, ctypes, zlib, lzma, bz2, sqlite3, hashlib, sys;"
            "print(ssl.OPENSSL_VERSION); print(zlib.ZLIB_RUNTIME_VERSION); print(sqlite3.sqlite_version);"
            "print(sys.version.split()[0]); print(hashlib.sha3_256(b'').hexdigest()[:8]);"
            "print(lzma.decompress(lzma.compress(b'ok')).decode(), bz2.decompress(bz2.compress(b'ok')).decode())")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert out[0].startswith(f"OpenSSL {PINS['openssl'].version}"), out[0]
    assert out[1] == PINS["zlib"].version
    assert out[2] == PINS["sqlite"].version
    assert out[3] == PINS["cpython"].version
    assert out[5] == "ok ok"


def test_no_runpath_in_libpython_or_extensions(python):
    root = python.parent.parent
    libs = [root / "lib" / "libpython3.13.so.1.0", *sorted((root / "lib" / "python3.13" / "lib-dynload").glob("*.so"))]
    assert len(libs) > 20
    for lib in libs:
        dyn = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
        assert "RUNPATH" not in dyn and "RPATH" not in dyn, f"{lib.name} carries a run path"
    interp = subprocess.run(["readelf", "-d", str(python)], capture_output=True, text=True).stdout
    assert "$ORIGIN/../lib" in interp


def test_cpython_uses_no_host_libraries(python):
    """Only libpython and libc-family libraries: nothing else of the build host leaks in."""
    root = python.parent.parent
    dynload = root / "lib" / "python3.13" / "lib-dynload"
    allowed = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "libpython3.13.so.1.0",
               "ld-linux-x86-64.so.2", "libutil.so.1", "librt.so.1"}
    for lib in [python, *dynload.glob("*.so")]:
        dyn = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
        needed = {line.split("[")[1].rstrip("]") for line in dyn.splitlines() if "(NEEDED)" in line}
        assert needed <= allowed, f"{lib.name} needs {needed - allowed}"

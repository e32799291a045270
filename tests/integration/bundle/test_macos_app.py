"""The signed macOS .app made on Linux, checked against real Mach-O code.

No Mac here: the frozen app and the macOS tor are STAND-INS built around the real
universal2 bootloaders of PyInstaller's macOS wheel (tests/fixtures/macos.py). The
signing is real: the farm-built rcodesign, run by the `macapp` recipe or by
builders/bundle/macos/codesign.py; checks are `rcodesign verify` (certificate
signatures) and builders/bundle/macos/verify.py (code pages, Info.plist and resource seal,
which also reads ad-hoc signatures).
"""
from __future__ import annotations

import hashlib
import plistlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders.bundle.macos.codesign import DeveloperId, sign
from builders.bundle.macos.signature import signatures
from builders.bundle.macos.verify import verify_app
from fixtures.macos import make_standin_app, run_macapp

SIGNING_TIME = "2025-01-01T00:00:00Z"


def tree_hashes(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "-> " + str(p.readlink())
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() + f" {p.stat().st_mode:o}"
    return out


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def app_copy(mac_app, tmp_path) -> Path:
    dest = tmp_path / mac_app.app.name
    shutil.copytree(mac_app.app, dest, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def developer_id(tmp_path_factory) -> DeveloperId:
    """A throwaway self-signed RSA code-signing certificate (openssl), as PEM key + certificate."""
    d = tmp_path_factory.mktemp("devid")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                    "-subj", "/CN=Developer ID Application: APAF Test (TESTTEAM01)/OU=TESTTEAM01/O=APAF Test",
                    "-addext", "extendedKeyUsage=critical,codeSigning", "-addext", "keyUsage=critical,digitalSignature",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    (d / "key.pem").chmod(0o600)
    (d / "cert.pem").chmod(0o600)
    return DeveloperId(pem=(d / "key.pem", d / "cert.pem"))


def test_macapp_step_makes_an_adhoc_signed_app_with_plist_icon_and_tor(mac_app):
    app = mac_app.app
    report = verify_app(app)
    assert report.problems == []
    assert report.adhoc and not report.hardened_runtime
    info = plistlib.loads((app / "Contents" / "Info.plist").read_bytes())
    assert info["CFBundleIdentifier"] == report.identifier == "org.apaf.chat"
    assert info["LSMinimumSystemVersion"] == "11.0"
    assert (app / "Contents" / "Resources" / info["CFBundleIconFile"]).read_bytes()[:4] == b"icns"
    # Both architectures of the universal2 executable are signed, as is the tor beside it.
    assert {s.arch for s in signatures(app / "Contents" / "MacOS" / "chat")} == {"x86_64", "ARM64"}
    seal = plistlib.loads((app / "Contents" / "_CodeSignature" / "CodeResources").read_bytes())["files2"]
    assert "cdhash" in seal["MacOS/tor"]
    assert "hash2" in seal["Resources/chat.icns"] and "symlink" in seal["Frameworks/base_library.zip"]
    assert report.sealed_files == len(seal)
    print(f"\nmacapp step: {mac_app.seconds:.1f}s wall, {mac_app.cpu_seconds:.1f}s CPU; "
          f"{report.sealed_files} sealed files")


def test_adhoc_signing_twice_at_other_paths_gives_identical_bytes(mac_app, mac_freeze_standin,
                                                                  mac_tor_standin, rcodesign, tmp_path):
    work = tmp_path / "some" / "other" / "place"
    work.mkdir(parents=True)
    again = run_macapp(work, mac_freeze_standin, mac_tor_standin, rcodesign)
    assert tree_hashes(again.app) == tree_hashes(mac_app.app)


def test_a_flipped_byte_in_the_executable_fails_verification(app_copy):
    exe = app_copy / "Contents" / "MacOS" / "chat"
    arm = next(s for s in signatures(exe) if s.arch == "ARM64")
    flip_byte(exe, arm.offset + 5000)           # inside the arm64 slice's signed code
    problems = verify_app(app_copy).problems
    assert any("chat (ARM64): page 1 " in p for p in problems), problems


def test_a_flipped_byte_in_tor_breaks_the_seal(app_copy):
    flip_byte(app_copy / "Contents" / "MacOS" / "tor", 20000)
    problems = verify_app(app_copy).problems
    assert any(p.startswith("tor (") and "does not match its signed hash" in p for p in problems), problems


def test_a_modified_or_added_resource_breaks_the_seal(app_copy):
    res = app_copy / "Contents" / "Resources"
    (res / "apps" / "apaf.toml").write_text((res / "apps" / "apaf.toml").read_text() + "\n# changed\n")
    (res / "extra.txt").write_text("not signed")
    problems = verify_app(app_copy).problems
    assert "Resources/apps/apaf.toml: modified after signing (sha256 differs from the seal)" in problems
    assert "Resources/extra.txt: added after signing (not in the seal)" in problems


def test_an_edited_info_plist_fails_verification(app_copy):
    plist = app_copy / "Contents" / "Info.plist"
    info = plistlib.loads(plist.read_bytes())
    info["LSMinimumSystemVersion"] = "10.9"
    plist.write_bytes(plistlib.dumps(info))
    assert any(p.startswith("Contents/Info.plist: changed after signing") for p in verify_app(app_copy).problems)


def test_developer_id_signature_verifies_and_is_reproducible(rcodesign, macos_bootloaders, developer_id, tmp_path):
    """Certificate signing with hardened runtime, a fixed signing time and no timestamp server
    (offline) twice into different folders: same bytes; rcodesign verify and our checks pass."""
    unsigned = make_standin_app(tmp_path / "in", macos_bootloaders)
    shutil.copyfile(macos_bootloaders["run"], unsigned / "Contents" / "MacOS" / "tor")
    (unsigned / "Contents" / "MacOS" / "tor").chmod(0o755)
    signed, times = [], []
    for n in (1, 2):
        (tmp_path / f"out{n}").mkdir()
        result = sign(rcodesign, unsigned, tmp_path / f"out{n}" / "chat.app", developer_id,
                      signing_time=SIGNING_TIME, timestamp_url="none")
        signed.append(result.app)
        times.append(result.seconds)
    assert tree_hashes(signed[0]) == tree_hashes(signed[1])
    report = verify_app(signed[0])
    assert report.problems == []
    assert not report.adhoc and report.hardened_runtime
    for exe in ("chat", "tor"):
        path = signed[0] / "Contents" / "MacOS" / exe
        assert all(cd.hardened_runtime for s in signatures(path) for cd in s.directories), exe
        assert all(s.cms for s in signatures(path)), exe
        proc = subprocess.run([str(rcodesign), "verify", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    print(f"\nDeveloper ID signing (RSA, hardened runtime): {times[0]:.2f}s, {times[1]:.2f}s")


def test_rcodesign_verify_rejects_a_flipped_byte_in_signed_code(rcodesign, macos_bootloaders, developer_id,
                                                               tmp_path):
    unsigned = make_standin_app(tmp_path / "in", macos_bootloaders)
    app = sign(rcodesign, unsigned, tmp_path / "chat.app", developer_id, signing_time=SIGNING_TIME,
               timestamp_url="none").app
    exe = app / "Contents" / "MacOS" / "chat"
    flip_byte(exe, next(s for s in signatures(exe) if s.arch == "x86_64").offset + 5000)
    proc = subprocess.run([str(rcodesign), "verify", str(exe)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert any("x86_64" in p for p in verify_app(app).problems)


def test_signing_refuses_an_existing_destination_and_a_world_readable_key(rcodesign, mac_app, developer_id,
                                                                          tmp_path):
    from builders.errors import ConfigError
    with pytest.raises(ConfigError, match="exists"):
        sign(rcodesign, mac_app.app, mac_app.app)
    key = tmp_path / "key.pem"
    shutil.copyfile(developer_id.pem[0], key)
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        sign(rcodesign, mac_app.app, tmp_path / "x.app", DeveloperId(pem=(key, developer_id.pem[1])))
    assert not (tmp_path / "x.app").exists()


def test_runtime_finds_tor_next_to_the_frozen_executable(mac_app, monkeypatch):
    """The runtime inside the .app (sys.executable = Contents/MacOS/chat) picks Contents/MacOS/tor."""
    from apaf.tor import binary
    exe = mac_app.app / "Contents" / "MacOS" / "chat"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.delenv("APAF_TOR", raising=False)
    assert binary.find_tor() == mac_app.app / "Contents" / "MacOS" / "tor"


def test_sign_time_figures(rcodesign, mac_app, tmp_path):
    """Prints how long ad-hoc signing the whole .app takes (a figure, not an assert on speed)."""
    started = time.monotonic()
    signed = sign(rcodesign, mac_app.app, tmp_path / "again.app")
    print(f"\nad-hoc re-sign of {mac_app.app.name}: {time.monotonic() - started:.2f}s "
          f"(rcodesign {signed.seconds:.2f}s)")
    assert verify_app(signed.app).problems == []


def test_an_unsigned_app_or_a_non_mach_o_file_is_reported_not_crashed(macos_bootloaders, tmp_path):
    from builders.bundle.macos.signature import SignatureError
    app = make_standin_app(tmp_path, macos_bootloaders)    # the wheel's x86_64 slice is unsigned
    assert any("not signed" in p for p in verify_app(app).problems)
    with pytest.raises(SignatureError, match="not a Mach-O file"):
        signatures(Path(sys.executable).resolve())

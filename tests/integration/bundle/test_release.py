"""`invoke release --builders local` with a throwaway key: gpg accepts the signature; a bad key stops
it before any build. (Two builders that must agree: test_release_builders_agree.py.)

Reuses the session's cache (every step is cached after `chat_bundle`). Wall time: ~10-20 s.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.bundle import CHAT

from builders.bundle.release import release
from builders.errors import FarmError, ReleaseKeyError

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)

REPO = Path(__file__).resolve().parents[3]


def test_release_signature_verifies_with_gpg(chat_bundle, release_key, tmp_path):
    fpr, home, _ = release_key
    dist = tmp_path / "release"
    proc = subprocess.run([sys.executable, "-m", "invoke", "release", "--app", str(CHAT), "--key", fpr,
                           "--gnupghome", str(home), "--dist", str(dist), "--builders", "local", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    verify = subprocess.run(["gpg", "--batch", "--homedir", str(home), "--verify",
                             str(dist / "SHA256SUMS.asc"), str(dist / "SHA256SUMS")], capture_output=True, text=True)
    assert verify.returncode == 0 and "Good signature" in verify.stderr, verify.stderr
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    # three bundles, their three SBOMs, the report and the provenance
    assert check.returncode == 0 and check.stdout.count(": OK") == 8, check.stdout
    listed = {line.split("  ", 1)[1] for line in (dist / "SHA256SUMS").read_text().splitlines()}
    assert listed == set(report["artifacts"]) | set(report["sboms"].values()) | {
        "release-report.json", "provenance.intoto.json"}, "SHA256SUMS lists exactly what this release made"
    assert not report["cross_checked"] and report["single_builder"] == "local", "one builder is recorded as such"
    assert all(by == ["local"] for by in report["agreed"].values())
    (built,) = report["apps"]
    assert (built["app"], built["target"]) == ("chat", "linux-x86_64")
    assert set(built["inputs"]) == {"app", "runtime", "requirements", "package", "dmgwriter"}
    assert built["inputs"] == chat_bundle.inputs
    assert json.loads((dist / "release-report.json").read_text())["key"] == fpr


@pytest.mark.parametrize("key", ["", "0123456789ABCDEF0123456789ABCDEF01234567"])
def test_missing_release_key_is_an_error_before_any_build(release_key, tmp_path, key, monkeypatch):
    _, home, _ = release_key
    import builders.bundle.release as rel
    monkeypatch.setattr(rel, "build_app", lambda *a, **k: pytest.fail("built before checking the key"))
    with pytest.raises(ReleaseKeyError, match="--key|no secret key"):
        release([CHAT], key=key, gnupghome=str(home), dist=tmp_path / "release")
    assert not (tmp_path / "release").exists()


def test_a_release_folder_with_stale_files_is_refused_before_any_build(release_key, tmp_path, monkeypatch):
    """A bundle left from an earlier run must never end up next to (or in) a fresh signed SHA256SUMS."""
    fpr, home, _ = release_key
    import builders.bundle.release as rel
    monkeypatch.setattr(rel, "build_app", lambda *a, **k: pytest.fail("built into a non-empty folder"))
    dist = tmp_path / "release"
    dist.mkdir()
    stale = dist / "chat-0.9.0-linux-x86_64"
    stale.write_bytes(b"last month's bundle")
    with pytest.raises(FarmError) as err:
        release([CHAT], key=fpr, gnupghome=str(home), dist=dist)
    msg = str(err.value)
    assert f"release folder {dist} is not empty" in msg and stale.name in msg and "--dist" in msg
    assert [p.name for p in dist.iterdir()] == [stale.name], "nothing added, nothing deleted"
    assert stale.read_bytes() == b"last month's bundle"


def test_the_release_command_names_the_stale_folder_and_the_fix(release_key, tmp_path):
    fpr, home, _ = release_key
    dist = tmp_path / "release"
    dist.mkdir()
    (dist / "SHA256SUMS").write_text("0" * 64 + "  chat_0.9.0_amd64.deb\n")
    proc = subprocess.run([sys.executable, "-m", "invoke", "release", "--app", str(CHAT), "--key", fpr,
                           "--gnupghome", str(home), "--dist", str(dist)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "not empty (SHA256SUMS)" in proc.stderr + proc.stdout and "--dist NEW_FOLDER" in proc.stderr + proc.stdout
    assert not (dist / "SHA256SUMS.asc").exists()

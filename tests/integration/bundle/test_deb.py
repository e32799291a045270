"""The .deb: lintian finds no errors; it installs into a clean root, its service runs, it removes cleanly.

The clean root is an empty directory with only dpkg's database: the package has no
Depends, so that is all a Debian system gives it (a debootstrap'd root would add files
the package never touches). The installed program then runs chrooted in that root on
the private Tor network. Wall time: ~40-90 s once the session's bundle exists.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixtures.bundle import empty_root, run_in_root
from fixtures.runtime import get_via_tor

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)


def dpkg(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", f"--root={root}", "--force-script-chrootless", *args],
                          capture_output=True, text=True)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if not p.is_dir() and not str(p.relative_to(root)).startswith(("var/lib/dpkg", "tmp/", "var/log"))}


def test_lintian_reports_no_errors(chat_bundle):
    proc = subprocess.run(["lintian", "--fail-on", "error", "--allow-root", str(chat_bundle.files["deb"])],
                          capture_output=True, text=True)
    errors = [line for line in proc.stdout.splitlines() if line.startswith("E:")]
    assert proc.returncode == 0 and not errors, proc.stdout + proc.stderr


def test_deb_metadata_and_layout_come_from_the_manifest(chat_bundle):
    deb = str(chat_bundle.files["deb"])
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Description"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: chat\nVersion: 1.0.0\nArchitecture: amd64\nDescription: Tor onion service: chat rooms" in fields
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    assert "./usr/bin/chat -> ../../opt/chat/chat" in listing
    for path in ("./opt/chat/chat", "./usr/share/applications/chat.desktop",
                 "./usr/share/icons/hicolor/64x64/apps/chat.png"):
        assert path in listing
    assert all(" root/root " in line for line in listing.splitlines()), listing


def test_deb_installs_runs_and_removes_cleanly(chat_bundle, testnet, tmp_path):
    root = empty_root(tmp_path / "root")
    admin = root / "var" / "lib" / "dpkg"
    for d in ("info", "updates", "triggers"):
        (admin / d).mkdir(parents=True)
    (admin / "status").touch()
    before = files_under(root)
    proc = dpkg(root, "-i", str(chat_bundle.files["deb"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.readlink(root / "usr/bin/chat") == "../../opt/chat/chat"
    assert (root / "usr/share/applications/chat.desktop").read_text().count("Exec=chat") == 1
    with run_in_root(root, ["/usr/bin/chat", "--testnet", "--wait-published", "--data-dir", "/tmp/data"],
                     testnet) as rt:
        status, body = get_via_tor(testnet.socks, f"http://{rt.onion('chat')}/")
        assert status == 200 and b"/static/chat.js" in body
    proc = dpkg(root, "-r", "chat")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert files_under(root) == before
    assert not (root / "opt" / "chat").exists()

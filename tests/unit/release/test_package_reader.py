"""The program inside a .deb and an .rpm made by the real dpkg-deb and rpmbuild, read back by Python."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builders.release.packages import packaged_program

PROGRAM = os.urandom(4096) + b"\x7fELF not really, but bytes that must come back exactly"


def _deb(tmp: Path) -> Path:
    root = tmp / "deb"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "opt/demo").mkdir(parents=True)
    (root / "opt/demo/demo").write_bytes(PROGRAM)
    (root / "DEBIAN/control").write_text("Package: demo\nVersion: 1.0\nArchitecture: amd64\n"
                                         "Maintainer: t <t@example.org>\nDescription: d\n")
    out = tmp / "demo_1.0_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(out)], check=True,
                   capture_output=True)
    return out


def _rpm(tmp: Path, payload: str) -> Path:
    top = tmp / "rpm"
    (top / "SPECS").mkdir(parents=True)
    src = tmp / "demo"
    src.write_bytes(PROGRAM)
    (top / "SPECS/demo.spec").write_text(
        "Name: demo\nVersion: 1.0\nRelease: 1\nSummary: d\nLicense: MIT\nBuildArch: x86_64\n"
        "%description\nd\n%install\nmkdir -p %{buildroot}/opt/demo\n"
        f"install -m 0755 {src} %{{buildroot}}/opt/demo/demo\n%files\n/opt/demo/demo\n")
    subprocess.run(["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", f"_binary_payload {payload}",
                    "--define", "__os_install_post %{nil}", "--define", "debug_package %{nil}",
                    str(top / "SPECS/demo.spec")], check=True, capture_output=True)
    return next((top / "RPMS").rglob("*.rpm"))


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="dpkg-deb is in ci/apt-packages.txt")
def test_deb_program_read_back(tmp_path):
    assert packaged_program(_deb(tmp_path), "demo") == PROGRAM


@pytest.mark.skipif(not shutil.which("rpmbuild"), reason="rpmbuild is in ci/apt-packages.txt")
@pytest.mark.parametrize("payload", ["w9.gzdio", "w2.xzdio"])
def test_rpm_program_read_back(tmp_path, payload):
    assert packaged_program(_rpm(tmp_path, payload), "demo") == PROGRAM


def test_other_files_are_refused_by_name(tmp_path):
    deb = _deb(tmp_path)
    with pytest.raises(ValueError, match="holds no opt/other/other"):
        packaged_program(deb, "other")
    junk = tmp_path / "x.rpm"
    junk.write_bytes(b"not an rpm at all")
    with pytest.raises(ValueError, match="not an .rpm"):
        packaged_program(junk, "demo")

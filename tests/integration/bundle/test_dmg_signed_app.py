"""The signed .app (macapp step, real universal2 Mach-O) through the dmg step and back out.

What a Mac user gets after dragging the app out of the mounted image must still
be validly signed: 7-Zip extracts it from the .dmg and the app's seal, code pages
and Info.plist are checked (builders/bundle/macos/verify.py, which reads any
signature), and every file, mode and symlink equals what macapp made. The Mac-only
freeze and tor steps are STAND-INS (tests/fixtures/macos.py): no Mac here.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from builders.bundle.macos.dmg import build_dmg
from builders.bundle.macos.verify import verify_app
from fixtures.dmg import EPOCH, LAYOUT, tree

pytestmark = [pytest.mark.skipif(not (shutil.which("7z") and shutil.which("xorrisofs")),
                                 reason="7z and xorrisofs are needed: apt-get install -y p7zip-full xorriso"),
              pytest.mark.timeout(2400)]   # the first user of mac_app may build rcodesign (cold)


def test_the_signed_app_comes_out_of_the_dmg_still_valid(mac_app, tmp_path):
    app = mac_app.app
    base = tmp_path / "macapp"
    shutil.copytree(app, base / app.name, symlinks=True)
    name = app.name[:-len(".app")]
    dmg = tmp_path / f"{name}.dmg"
    build_dmg(LAYOUT, name=name, base=base, epoch=EPOCH, out=dmg)
    assert subprocess.run(["7z", "t", str(dmg)], capture_output=True).returncode == 0
    part = tmp_path / "volume.hfs"
    listing = subprocess.run(["7z", "l", "-slt", str(dmg)], capture_output=True, text=True).stdout
    (member,) = [line[7:] for line in listing.splitlines() if line.startswith("Path = ") and line.endswith(".hfs")]
    with part.open("wb") as f:
        assert subprocess.run(["7z", "e", "-so", str(dmg), member], stdout=f).returncode == 0
    out = tmp_path / "files"
    assert subprocess.run(["7z", "x", "-snl", "-snld", f"-o{out}", str(part)], capture_output=True).returncode == 0
    extracted = out / name / app.name
    assert tree(extracted) == tree(app)
    assert verify_app(extracted).problems == []

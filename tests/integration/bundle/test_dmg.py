"""The .dmg written on Linux, read back by programs that share no code with the writer.

7-Zip checks every checksum and extracts the HFS+ volume; dmg2img turns the
UDIF back into the raw disk image; Debian's kernel, booted under QEMU (this
machine's kernel has no hfsplus), mounts that disk's HFS+ partition with Linux's
hfsplus driver. Each compares with the .app that went in: bytes, permission
bits (Contents/MacOS/* executable), the framework's symlinks, the volume name,
the Applications link. No Mac here: what Finder shows (window, icon places,
background) is checked only as far as the .DS_Store file's bytes.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ds_store import DSStore
from mac_alias import Alias

from builders.bundle.macos import hfs_catalog
from builders.bundle.macos.dmg import build_dmg
from builders.bundle.macos.dmg_layout import LayoutError
from builders.bundle.macos.udif import apm_partitions
from fixtures.dmg import EPOCH, LAYOUT, make_app, tree

pytestmark = pytest.mark.skipif(not (shutil.which("7z") and shutil.which("dmg2img")),
                                reason="7z and dmg2img are needed: apt-get install -y p7zip-full dmg2img")


def run(*argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, timeout=120, **kw)


def hfs_member(archive: Path, *flags: str) -> str:
    """The name 7-Zip gives the Apple_HFS partition of a .dmg or raw disk image."""
    listing = run("7z", "l", "-slt", *flags, archive).stdout.decode()
    names = [n for n in re.findall(r"^Path = (.+)$", listing, re.M) if n.endswith(".hfs")]
    assert len(names) == 1, listing
    return names[0]


def extract_volume(archive: Path, dest: Path, *flags: str) -> Path:
    """Extract the HFS+ partition with 7-Zip, then its files; returns the volume's folder.

    -snld: 7-Zip skips links that climb out of their folder (../Resources/x, which every
    PyInstaller .app has) unless told they are wanted.
    """
    dest.mkdir()
    hfs = dest / "volume.hfs"
    with hfs.open("wb") as f:
        assert subprocess.run(["7z", "e", "-so", *flags, str(archive), hfs_member(archive, *flags)],
                              stdout=f, stderr=subprocess.PIPE, timeout=120).returncode == 0
    proc = run("7z", "x", "-snl", "-snld", f"-o{dest / 'files'}", hfs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (volume,) = (dest / "files").iterdir()
    return volume


def test_7zip_verifies_every_checksum(chat_dmg):
    proc = run("7z", "t", chat_dmg.dmg)
    assert proc.returncode == 0 and b"Everything is Ok" in proc.stdout, proc.stdout + proc.stderr
    listing = run("7z", "l", "-slt", chat_dmg.dmg).stdout.decode()
    assert "Method = Zero0 ZLIB CRC" in listing or ("ZLIB" in listing and "CRC" in listing), listing


def test_7zip_extracts_the_app_as_it_went_in(chat_dmg, tmp_path):
    volume = extract_volume(chat_dmg.dmg, tmp_path / "x")
    assert volume.name == "Chat"                                   # the volume name is the app's name
    got, want = tree(volume / "Chat.app"), tree(chat_dmg.app)
    assert got.keys() == want.keys()
    assert got == want                                             # bytes, modes, symlink targets
    assert got["Contents/MacOS/Chat"][1] == got["Contents/MacOS/tor"][1] == 0o755
    assert got["Contents/Frameworks/Python.framework/Versions/Current"] == ("link", None, "3.13")
    assert got["Contents/Frameworks/base_library.zip"] == ("link", None, "../Resources/base_library.zip")
    assert (volume / ".background.png").read_bytes() == (LAYOUT.parent / "background.png").read_bytes()


def test_the_applications_link_points_at_applications(chat_dmg, tmp_path):
    volume = extract_volume(chat_dmg.dmg, tmp_path / "x")
    hfs = tmp_path / "x" / "volume.hfs"
    # 7-Zip rewrites absolute links on extraction; the stored target is what a Mac follows.
    assert run("7z", "e", "-so", hfs, "Chat/Applications").stdout == b"/Applications"
    assert (volume / "Applications").is_symlink()


def test_finder_layout_on_the_volume(chat_dmg, tmp_path):
    volume = extract_volume(chat_dmg.dmg, tmp_path / "x")
    with DSStore.open(str(volume / ".DS_Store"), "r") as d:
        assert d["Chat.app"]["Iloc"] == (160, 200)
        assert d["Applications"]["Iloc"] == (480, 200)
        assert d["."]["bwsp"]["WindowBounds"] == "{{200, 120}, {640, 400}}"
        icvp = d["."]["icvp"]
        assert icvp["iconSize"] == 128.0 and icvp["backgroundType"] == 2
        alias = Alias.from_bytes(icvp["backgroundImageAlias"])
    # The alias names the picture by the catalog id xorriso gave it: read back from the
    # volume, that catalog entry's data fork is the picture.
    raw = chat_dmg.raw.read_bytes()
    entry = hfs_catalog.lookup(raw, ".background.png")
    assert hfs_catalog.read_file(raw, entry) == (volume / ".background.png").read_bytes()
    assert (alias.target.filename, alias.target.cnid, alias.target.folder_cnid) == (".background.png", entry.cnid, 2)
    assert (alias.volume.name, alias.volume.fs_type, alias.target.posix_path) == ("Chat", b"H+", "/.background.png")


def test_dmg2img_gives_back_the_exact_volume(chat_dmg, tmp_path):
    img = tmp_path / "Chat.img"
    proc = run("dmg2img", "-s", "-i", chat_dmg.dmg, "-o", img)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert img.read_bytes() == chat_dmg.raw.read_bytes()
    # and that raw image is an Apple-partitioned disk whose HFS+ partition holds the app
    volume = extract_volume(img, tmp_path / "x", "-tAPM")
    assert tree(volume / "Chat.app") == tree(chat_dmg.app)


def test_debian_kernel_hfsplus_driver_under_qemu_reads_the_same_files(chat_dmg, hfsplus_vm, tmp_path):
    """A real kernel's hfsplus driver (Debian's, booted under QEMU: this machine's kernel has
    none) finds the HFS+ partition through its own Apple-partition-map code on dmg2img's disk,
    mounts it read-only and lists the .app that went in: bytes, modes, symlink targets."""
    img = tmp_path / "Chat.img"
    assert run("dmg2img", "-s", "-i", chat_dmg.dmg, "-o", img).returncode == 0
    (hfs,) = [p for p in apm_partitions(img.read_bytes()) if "(Apple_HFS :" in p.name]
    got = hfsplus_vm.read(img, hfs.first_sector)
    print(f"\n{got.kernel} under QEMU (TCG): boot, insmod, mount, hash {len(got.entries)} entries "
          f"in {got.seconds:.1f}s; {got.mount}; {got.klog}")
    assert " hfsplus ro," in f" {got.mount.split(' ', 2)[2]}", got.mount
    assert not [line for line in got.klog if re.search(r"error|corrupt|fsck|invalid|bad|fail", line, re.I)]
    want = {path: (kind, mode, hashlib.sha256(data).hexdigest() if kind == "file" else data)
            for path, (kind, mode, data) in tree(chat_dmg.app).items()}
    app = {path.removeprefix("Chat.app/"): v for path, v in got.entries.items() if path.startswith("Chat.app/")}
    assert app.keys() == want.keys()
    assert app == want                                             # bytes, modes, symlink targets
    assert {path for path in got.entries if "/" not in path} == {"Chat.app", "Applications", ".background.png",
                                                                 ".DS_Store"}
    assert got.entries["Applications"] == ("link", None, "/Applications")
    background = hashlib.sha256((LAYOUT.parent / "background.png").read_bytes()).hexdigest()
    assert got.entries[".background.png"] == ("file", 0o644, background)


def test_the_kernel_reader_sees_a_changed_byte_in_a_file(chat_dmg, hfsplus_vm, tmp_path):
    """The VM's listing is the kernel's reading, not an echo: one byte changed inside
    Info.plist's data on the disk changes that file's hash and nothing else."""
    disk = bytearray(chat_dmg.raw.read_bytes())
    plist = (chat_dmg.app / "Contents" / "Info.plist").read_bytes()
    at = disk.find(plist)
    assert at > 0 and disk.find(plist, at + 1) == -1               # the file's one extent on the disk
    disk[at + plist.index(b"Chat")] ^= 0x20                        # "Chat" -> "chat"
    (tmp_path / "bad.img").write_bytes(disk)
    (hfs,) = [p for p in apm_partitions(bytes(disk)) if "(Apple_HFS :" in p.name]
    got = hfsplus_vm.read(tmp_path / "bad.img", hfs.first_sector).entries
    changed = plist.replace(b">Chat<", b">chat<")
    assert got["Chat.app/Contents/Info.plist"] == ("file", 0o644, hashlib.sha256(changed).hexdigest())
    assert got["Chat.app/Contents/MacOS/Chat"][2] == \
        hashlib.sha256((chat_dmg.app / "Contents" / "MacOS" / "Chat").read_bytes()).hexdigest()


def flipped(src: Path, dest: Path, at: int) -> Path:
    data = bytearray(src.read_bytes())
    data[at] ^= 0x01
    dest.write_bytes(data)
    return dest


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_flipped_bit_is_caught_by_both_readers(chat_dmg, tmp_path, where):
    fork_len = int.from_bytes(chat_dmg.dmg.read_bytes()[-512 + 32:-512 + 40], "big")
    bad = flipped(chat_dmg.dmg, tmp_path / "bad.dmg", int(fork_len * where))
    seven = run("7z", "t", bad)
    assert seven.returncode != 0 and re.search(rb"CRC Failed|Data Error", seven.stdout + seven.stderr), seven.stdout
    d2i = run("dmg2img", "-s", "-i", bad, "-o", tmp_path / "bad.img")
    if d2i.returncode == 0:  # dmg2img checks no CRC; a flip it cannot see must still change the volume
        assert (tmp_path / "bad.img").read_bytes() != chat_dmg.raw.read_bytes()


def test_two_builds_at_different_paths_are_identical(chat_dmg, tmp_path):
    elsewhere = tmp_path / "another" / "checkout"
    elsewhere.mkdir(parents=True)
    app = make_app(elsewhere)
    os.utime(app / "Contents" / "Info.plist", (1, 1))              # other mtimes and modes, same content
    (app / "Contents" / "Info.plist").chmod(0o600)
    old = os.umask(0o077)
    try:
        build_dmg(LAYOUT, name="Chat", base=elsewhere, epoch=EPOCH, out=tmp_path / "again.dmg")
    finally:
        os.umask(old)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / "again.dmg") == digest(chat_dmg.dmg)


def test_the_farm_step_makes_the_same_image_offline(chat_dmg, tmp_path):
    """The dmg recipe run by the local builder (private namespaces, no network), on macapp's
    output as the step would get it, gives the very bytes of the writer run directly."""
    from builders.bundle.macos.dmg import stage_writer
    from builders.executors.base import Job
    from builders.executors.local import LocalExecutor
    from builders.recipes import load_recipe

    recipe = load_recipe("dmg", target_os="macos")
    assert recipe.os == "linux" and recipe.deps == ("macapp",)     # made on Linux for a macOS target
    macapp = tmp_path / "macapp"
    shutil.copytree(chat_dmg.app, macapp / "Chat.app", symlinks=True)
    package = tmp_path / "package"
    package.mkdir()
    (package / "meta.env").write_text("NAME=chat\nVERSION=1.0\nICON_SIZE=\n")
    job = Job("dmg-test", recipe.files(), [], {"macapp": macapp}, tmp_path / "out", tmp_path / "work",
              env={"HOST_TRIPLET": "aarch64-apple-darwin"},
              trees={"package": package, "dmgwriter": stage_writer(tmp_path / "dmgwriter")})
    (tmp_path / "out").mkdir()
    log: list[str] = []
    try:
        LocalExecutor(source_date_epoch=EPOCH).run(job, log.append)
    except Exception:
        print("\n".join(log))
        raise
    (out,) = (tmp_path / "out").iterdir()
    assert out.name == "chat-1.0-macos-arm64.dmg"
    assert out.read_bytes() == chat_dmg.dmg.read_bytes(), "\n".join(log)


def test_names_a_mac_disk_cannot_hold_side_by_side_are_refused(tmp_path):
    app = make_app(tmp_path / "src")
    (app / "Contents" / "Resources" / "lib" / "Mod00.py").write_text("x = 1\n")   # beside mod00.py
    with pytest.raises(LayoutError, match=r"lib/Mod00.py and .*lib/mod00.py differ only in case.*rename one"):
        build_dmg(LAYOUT, name="Chat", base=tmp_path / "src", epoch=EPOCH, out=tmp_path / "x.dmg")
    assert not (tmp_path / "x.dmg").exists()

"""The HFS+ volume: the layout's files staged in a folder, then `xorrisofs -hfsplus`.

xorriso writes an Apple partition map with an HFS+ partition (beside an ISO
9660 tree that Macs ignore), as tor-browser-build does for its .dmg; no
maintained Linux tool writes a bare HFS+ volume any more (hfsprogs' mkfs is
gone from Debian). Reproducible: every mtime is SOURCE_DATE_EPOCH (xorriso
takes file dates from mtimes and volume dates and ids from SOURCE_DATE_EPOCH),
owners are 0:0, modes are 0755 for folders and for files with any execute
bit, 0644 otherwise; the HFS+ serial number comes from the volume name.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

from .dmg_layout import Layout, LayoutError
from .finder import background_name, write_ds_store


class ToolMissing(RuntimeError):
    """A program the writer needs is not installed; the message says which package has it.

    Not builders.errors.ToolMissing: this package also runs alone inside the dmg step
    (as `apaf_dmg`, see dmg.stage_writer), where the rest of the farm is absent.
    """


def stage(layout: Layout, base: Path, root: Path, epoch: int) -> Path:
    """Lay the volume's files out in `root` (created); `base` resolves relative paths."""
    root.mkdir(parents=True)
    for item in layout.items:
        dest = root / item.name
        if item.kind == "link":
            dest.symlink_to(item.path)
            continue
        src = (base / item.path) if not os.path.isabs(item.path) else Path(item.path)
        if not src.exists():
            raise LayoutError(f"contents: {item.path} not found (looked at {src})")
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=True)
        else:
            shutil.copyfile(src, dest)
            shutil.copymode(src, dest)
    if layout.background:
        src = Path(layout.background)
        if not src.is_file():
            raise LayoutError(f"background: {src} not found")
        shutil.copyfile(src, root / background_name(layout))
    write_ds_store(layout, root / ".DS_Store", epoch)
    check_names(root)
    normalise(root, epoch)
    return root


def check_names(root: Path) -> None:
    """Refuse names that HFS+ (case-insensitive, like a Mac's disk) cannot hold side by side.

    xorriso would rename one of them quietly ("name_1"), breaking whatever loads it.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        seen: dict[str, str] = {}
        for name in sorted(dirnames + filenames):
            key = unicodedata.normalize("NFD", name).casefold()
            if key in seen:
                rel = Path(dirpath).relative_to(root)
                raise LayoutError(f"{rel / seen[key]} and {rel / name} differ only in case or Unicode form; "
                                  "a Mac's HFS+ volume holds one of them: rename one in the app")
            seen[key] = name


def normalise(root: Path, epoch: int) -> None:
    """Modes and mtimes that do not depend on who built it, where, or with which umask."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            mode = os.stat(p).st_mode
            os.chmod(p, 0o755 if os.path.isdir(p) or mode & 0o111 else 0o644)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (epoch, epoch), follow_symlinks=False)
    os.chmod(root, 0o755)
    os.utime(root, (epoch, epoch))


def make_volume(root: Path, title: str, out: Path, epoch: int) -> Path:
    """Write the raw disk image `out` (partition map + HFS+ named `title`) from `root`."""
    xorrisofs = shutil.which("xorrisofs")
    if not xorrisofs:
        raise ToolMissing("xorrisofs is needed to write the HFS+ volume: apt-get install -y xorriso")
    serial = hashlib.sha256(title.encode()).hexdigest()[:16].upper()
    argv = [xorrisofs, "-quiet", "-D", "-R", "-uid", "0", "-gid", "0", "-no-pad",
            "-V", title, "-hfsplus", "-hfsplus-serial-no", serial,
            "-apm-block-size", "2048", "-hfsplus-block-size", "2048",
            "-o", str(out), str(root)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"xorrisofs failed (exit {proc.returncode}):\n{proc.stdout}")
    fix_block_count(out)
    return out


def fix_block_count(image: Path) -> None:
    """Put the disk's real size in the driver descriptor (block 0) of xorriso's partition map.

    xorriso stores x86 boot code (EB 02 FF FF, for isohybrid USB sticks) where the
    descriptor's block count belongs; a disk image never boots a PC, and readers
    that trust the count (7-Zip's partition map reader) see a 7 TiB disk.
    """
    with open(image, "r+b") as f:
        head = f.read(8)
        if head[:2] != b"ER":
            raise RuntimeError(f"{image}: xorrisofs wrote no Apple partition map (driver descriptor missing)")
        block = int.from_bytes(head[2:4], "big")
        f.seek(0, os.SEEK_END)
        blocks = f.tell() // block
        f.seek(4)
        f.write(blocks.to_bytes(4, "big"))

"""Where a static bundle's bytes go, read from the two archives it is made of.

`breakdown(static, onefile, pyinstaller_wheels)` returns (label, bytes) rows that add up to the
static binary's size:
- staticx's part: its bootloader and the tar it appends (section .staticx.archive,
  uncompressed: --no-compress) holding the PyInstaller onefile and the glibc libraries;
- the onefile's CArchive, entry by entry as stored (zlib-compressed): tor, libpython,
  each extension module, the PYZ split into stdlib / third-party packages / apaf, data.
The archives are read with PyInstaller's own readers, imported from the wheelhouse's
PyInstaller wheel (pure Python; the farm's venv does not install PyInstaller).
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

STDLIB = set(sys.stdlib_module_names)


def _readers(wheels: list[Path]):
    for whl in wheels:
        if str(whl) not in sys.path:
            sys.path.insert(0, str(whl))
    from PyInstaller.archive.readers import CArchiveReader
    return CArchiveReader


def staticx_members(static: Path) -> dict[str, int]:
    """Member name -> size of the tar staticx appended to its bootloader."""
    with tempfile.TemporaryDirectory(prefix="sx-") as tmp:
        tar = Path(tmp) / "archive.tar"
        subprocess.run(["objcopy", "--dump-section", f".staticx.archive={tar}", str(static), str(Path(tmp) / "elf")],
                       check=True)
        with tarfile.open(tar) as t:   # uncompressed with --no-compress; tarfile also reads xz
            return {m.name: m.size for m in t.getmembers() if m.isfile()}


def _origin(module: str) -> str:
    top = module.split(".")[0]
    if top == "apaf":
        return "PYZ: apaf runtime"
    return "PYZ: stdlib" if top in STDLIB else "PYZ: third-party packages"


def breakdown(static: Path, onefile: Path, pyinstaller_wheels: list[Path]) -> list[tuple[str, int]]:
    CArchiveReader = _readers(pyinstaller_wheels)
    rows: dict[str, int] = defaultdict(int)
    members = staticx_members(static)
    inner = max(members, key=members.get)          # the onefile: by far the largest member
    for name, size in members.items():
        if name != inner:
            rows[f"staticx: {name}"] += size
    rows["staticx: bootloader and tar headers"] = static.stat().st_size - sum(members.values())

    arc = CArchiveReader(str(onefile))
    rows["onefile: PyInstaller bootloader"] = onefile.stat().st_size - (arc._end_offset - arc._start_offset)
    stored = 0
    for name, (offset, length, _ulen, _flag, typecode) in arc.toc.items():
        stored += length
        if typecode == "z":                        # the PYZ: split by where each module comes from
            pyz = arc.open_embedded_archive(name)
            sizes = {mod: entry[2] for mod, entry in pyz.toc.items()}
            for mod, size in sizes.items():
                rows[_origin(mod)] += size
            rows["PYZ: index"] += length - sum(sizes.values())
        elif name == "tor":
            rows["tor (static, musl)"] += length
        elif name.startswith("libpython"):
            rows[name] += length
        elif name.endswith(".so") or ".so." in name:
            if "lib-dynload/" in name:
                rows[f"ext: {name.rsplit('/', 1)[-1].split('.')[0]}"] += length
            else:
                rows[f"wheel ext: {name.split('/')[0]}"] += length
        elif name == "base_library.zip":
            rows["stdlib: base_library.zip"] += length
        elif name.startswith("apps/"):
            rows["the app's folder"] += length
        else:
            rows["other data, scripts, TOC"] += length
    # The CArchive's TOC and cookie: whatever the entries do not account for.
    rows["other data, scripts, TOC"] += (arc._end_offset - arc._start_offset) - stored
    # Onefile bytes are inside staticx's tar: the rows above add up to the static file.
    return sorted(rows.items(), key=lambda kv: -kv[1])


def print_breakdown(label: str, static: Path, onefile: Path, wheels: list[Path], top: int = 25) -> None:
    rows = breakdown(static, onefile, wheels)
    total = static.stat().st_size
    print(f"  {label}: {total / 1e6:.2f} MB static, where the bytes go (as stored):")
    for name, size in rows[:top]:
        print(f"    {size / 1e6:7.3f} MB  {100 * size / total:5.1f} %  {name}")
    rest = rows[top:]
    if rest:
        print(f"    {sum(s for _, s in rest) / 1e6:7.3f} MB         {len(rest)} smaller items")

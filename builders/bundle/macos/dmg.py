"""Build a .dmg on Linux from a dmgbuild layout file: stage, HFS+ volume, UDIF.

    python -m builders.bundle.macos.dmg --layout layout.json --name Chat \\
        --base DIR --epoch 1735689600 --out Chat-1.0-macos-arm64.dmg

`build_dmg()` is the same as a function. Relative paths in the layout (the
.app, the background) resolve against `base`. The same inputs give the same
bytes wherever and by whom it runs (see volume.py and udif.py).
"""
from __future__ import annotations

import argparse
import importlib
import mmap
import shutil
import sys
import tempfile
from pathlib import Path

from . import dmg_layout, finder, hfs_catalog, udif, volume


def build_dmg(layout_path: Path, *, name: str, base: Path, epoch: int, out: Path,
              keep_raw: Path | None = None) -> dict:
    """Write `out`; returns udif.write_udif's figures. LayoutError/ToolMissing name the fix."""
    layout = dmg_layout.load(layout_path, name=name)
    with tempfile.TemporaryDirectory(prefix="dmg-") as tmp:
        root = volume.stage(layout, Path(base), Path(tmp) / "volume", epoch)
        raw = volume.make_volume(root, layout.title, Path(keep_raw or Path(tmp) / "raw.img"), epoch)
        if layout.background:
            # Second pass: the background's alias gets the catalog id xorriso gave the file
            # (ids follow the sorted names, so the same tree gets the same ids again).
            picture = finder.background_name(layout)
            cnid = _catalog_id(raw, picture)
            finder.write_ds_store(layout, root / ".DS_Store", epoch, background_cnid=cnid)
            volume.normalise(root, epoch)
            raw = volume.make_volume(root, layout.title, raw, epoch)
            if _catalog_id(raw, picture) != cnid:
                raise RuntimeError(f"xorrisofs gave {picture} another catalog id on the second pass")
        out = Path(out)
        partial = out.with_name(f".{out.name}.partial")
        info = udif.write_udif(raw, partial, level=layout.level)
        partial.replace(out)  # nothing half-written ever carries the final name
    return info


def _catalog_id(image: Path, name: str) -> int:
    with open(image, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        return hfs_catalog.lookup(raw, name).cnid


WRITER_MODULES = ("dmg", "dmg_layout", "finder", "hfs_catalog", "volume", "udif")
LIBRARIES = ("ds_store", "mac_alias")


def stage_writer(dest: Path) -> Path:
    """Copy this writer (as package `apaf_dmg`) and its two pure-Python libraries into `dest`.

    The dmg step runs it with the builder's python3 (`PYTHONPATH=dest python3 -m
    apaf_dmg.dmg`): the libraries are the farm's own hash-pinned copies
    (ci/requirements.txt), so the step needs no network and no wheel of its own,
    and the folder's digest puts the writer's exact code into the step's key.
    """
    pkg = Path(dest) / "apaf_dmg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""The .dmg writer, as handed to the dmg step (see builders/bundle/macos)."""\n')
    here = Path(__file__).parent
    for name in WRITER_MODULES:
        shutil.copyfile(here / f"{name}.py", pkg / f"{name}.py")
    for lib in LIBRARIES:
        src = Path(importlib.import_module(lib).__file__).parent
        shutil.copytree(src, Path(dest) / lib, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return Path(dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dmg", description=__doc__.splitlines()[0])
    ap.add_argument("--layout", type=Path, required=True, help="dmgbuild JSON settings file")
    ap.add_argument("--name", required=True, help="the app's name: replaces @NAME@ in the layout")
    ap.add_argument("--base", type=Path, required=True, help="folder the layout's relative paths start from")
    ap.add_argument("--epoch", type=int, required=True, help="SOURCE_DATE_EPOCH: every date in the image")
    ap.add_argument("--out", type=Path, required=True, help="the .dmg to write")
    args = ap.parse_args(argv)
    try:
        info = build_dmg(args.layout, name=args.name, base=args.base, epoch=args.epoch, out=args.out)
    except (dmg_layout.LayoutError, volume.ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {info['dmg_bytes']} bytes (volume {info['raw_bytes']}), "
          f"partitions: {', '.join(info['partitions'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

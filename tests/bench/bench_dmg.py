"""Benchmark: the Linux-made .dmg for a test app (figures only).

For a ~3 MB and a ~30 MB test .app (tests/fixtures/dmg.py: half noise, half
pattern, plus text; a frozen app with CPython is ~30 MB), prints the time of
each phase (staging + .DS_Store, xorrisofs, UDIF at zlib levels 1/6/9) and of the
whole build (two xorrisofs passes: the background's catalog id), the raw
volume and .dmg sizes, and how long 7-Zip and dmg2img take to read it back.
Takes ~30 s.  Run with `ci/farm bench --only dmg`.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from builders.bundle.macos import dmg_layout, udif, volume  # noqa: E402
from builders.bundle.macos.dmg import build_dmg  # noqa: E402
from fixtures.dmg import EPOCH, LAYOUT, make_app  # noqa: E402


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    result = fn(*args, **kw)
    return result, time.perf_counter() - t0


def reader(argv):
    t0 = time.perf_counter()
    ok = subprocess.run(argv, capture_output=True).returncode == 0
    return f"{time.perf_counter() - t0:.2f} s{'' if ok else ' FAILED'}"


def one(size_mb: int, tmp: Path) -> None:
    base = tmp / f"app{size_mb}"
    base.mkdir()
    make_app(base, size=size_mb << 20)
    app_bytes = sum(p.stat().st_size for p in base.rglob("*") if p.is_file() and not p.is_symlink())
    layout = dmg_layout.load(LAYOUT, name="Chat")
    root, t_stage = timed(volume.stage, layout, base, tmp / f"vol{size_mb}", EPOCH)
    raw, t_vol = timed(volume.make_volume, root, layout.title, tmp / f"raw{size_mb}.img", EPOCH)
    print(f"\ntest app {app_bytes / 1e6:.1f} MB: stage + .DS_Store {t_stage:.2f} s, xorrisofs {t_vol:.2f} s, "
          f"raw volume {raw.stat().st_size / 1e6:.1f} MB")
    for level in (1, 6, 9):
        out = tmp / f"Chat{size_mb}-{level}.dmg"
        info, t = timed(udif.write_udif, raw, out, level=level)
        print(f"  UDZO zlib-{level}: {info['dmg_bytes'] / 1e6:6.2f} MB "
              f"({100 * info['dmg_bytes'] / info['raw_bytes']:.0f}% of raw) in {t:.2f} s")
    info, t = timed(build_dmg, LAYOUT, name="Chat", base=base, epoch=EPOCH, out=tmp / f"whole{size_mb}.dmg")
    print(f"  whole build_dmg (both xorrisofs passes, zlib-9): {t:.2f} s, {info['dmg_bytes'] / 1e6:.2f} MB")
    dmg = tmp / f"Chat{size_mb}-9.dmg"
    if shutil.which("7z") and shutil.which("dmg2img"):
        print(f"  readers: 7z t {reader(['7z', 't', str(dmg)])}, "
              f"dmg2img {reader(['dmg2img', '-s', '-i', str(dmg), '-o', str(tmp / 'back.img')])}")


def main():
    if not shutil.which("xorrisofs"):
        print("bench_dmg: xorrisofs is not installed (ci/apt-packages.txt: xorriso); skipped")
        return
    print("== .dmg written on Linux (builders/bundle/macos)")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (3, 30):
            one(size, Path(tmp))


if __name__ == "__main__":
    main()

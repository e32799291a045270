"""A macOS bundle through the real farm on Linux, with a STAND-IN for the Mac: the Linux side is real.

No Mac here. `invoke build --target macos-arm64` is run through `build_app`,
as the task does, with `--builder standin-mac`: an executor that says it runs
macOS steps but runs nothing; for `freeze` it hands back engineer 6's
stand-in chat.app (real universal2 Mach-O bootloader, tests/fixtures/macos.py),
for `tor` a stand-in Mach-O tor, and empty outputs for the other Mac steps.
Everything after that is the real farm on this Linux machine, picked per
step by `runs_on = "linux"`: rcodesign built from the pinned crates, `macapp`
(Info.plist, icon, tor, ad-hoc signature), `dmg` (HFS+/UDIF), dist/ and
SHA256SUMS. The result is read back with 7z (an independent reader) and the
signature checked; a second run must be all cache hits.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from builders.bundle.app_build import build_app
from builders.executors import _REGISTRY, register
from builders.executors.base import RunResult
from builders.progress import PlainProgress

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]   # a cold rcodesign is 10-25 min here

CHAT = Path(__file__).resolve().parents[3] / "examples" / "chat"


class StandInMacExecutor:
    """STAND-IN for a Mac builder (no macOS runs): returns fixture outputs for the Mac-only steps."""

    name = "standin-mac"
    os = "macos"
    outputs: dict[str, Path] = {}       # recipe name -> folder copied as that step's out/
    ran: list[str] = []

    def __init__(self, **_options):
        pass

    def check(self, target) -> None:
        pass

    def identity(self, target) -> str:
        return "STAND-IN mac: no macOS ran"

    def run(self, job, log) -> RunResult:
        recipe = job.step_id.split("@")[0]
        type(self).ran.append(job.step_id)
        given = self.outputs.get(recipe)
        log(f"STAND-IN mac: {job.step_id} not built (no Mac here); out/ = {given or 'empty'}")
        if given is not None:
            shutil.copytree(given, job.out_dir, symlinks=True, dirs_exist_ok=True)
        return RunResult()


@pytest.fixture
def standin_mac(mac_freeze_standin, mac_tor_standin):
    StandInMacExecutor.outputs = {"freeze": mac_freeze_standin, "tor": mac_tor_standin}
    StandInMacExecutor.ran = []
    register("standin-mac")(StandInMacExecutor)
    yield StandInMacExecutor
    _REGISTRY.pop("standin-mac", None)


def _build(cache: Path, dist: Path):
    return build_app(CHAT, "macos-arm64", dist=dist, builder="standin-mac", linux_builder="local",
                     cache_root=cache, progress=PlainProgress(), parallel=2)


def test_macos_bundle_linux_steps_make_a_signed_app_in_a_dmg_with_a_standin_mac(standin_mac, farm_cache, tmp_path):
    from builders.bundle.macos.verify import verify_app

    result = _build(farm_cache, tmp_path / "dist")
    steps = {s.id: s for s in result.summary.steps}
    # Where each step ran: compile and freeze "on the Mac" (the stand-in), the rest here.
    mac_steps = {i for i, s in steps.items() if s.executor == "standin-mac"}
    for sid in ("freeze@clang", "tor@clang", "cpython@clang"):   # cached: a warm APAF_TEST_CACHE
        assert sid in set(standin_mac.ran) | mac_steps or steps[sid].status == "cached", steps[sid]
    for sid in ("macapp@clang", "dmg@clang"):
        assert steps[sid].status in ("built", "cached")
        if steps[sid].status == "built":
            assert steps[sid].executor == "local"

    dmg = result.files["dmg"]
    assert dmg.name == "chat-1.0.0-macos-arm64.dmg"
    sums = (tmp_path / "dist" / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(dmg.read_bytes()).hexdigest()}  {dmg.name}" in sums

    # An independent reader opens the image and finds the app, signed, with tor and Info.plist.
    # 7z opens the UDIF image into its partitions, then the HFS+ one into files (-snl -snld: links as
    # links, including PyInstaller's ../Resources ones, which 7z otherwise calls dangerous and drops).
    parts, out = tmp_path / "partitions", tmp_path / "volume"
    subprocess.run(["7z", "x", "-y", f"-o{parts}", str(dmg)], check=True, capture_output=True, timeout=300)
    (hfs,) = parts.glob("*.hfs")
    subprocess.run(["7z", "x", "-y", "-snl", "-snld", f"-o{out}", str(hfs)], check=True, capture_output=True,
                   timeout=300)
    apps = [p for p in out.rglob("chat.app") if p.is_dir()]
    assert len(apps) == 1, sorted(str(p) for p in out.rglob("*"))[:40]
    app = apps[0]
    assert (app / "Contents" / "MacOS" / "tor").is_file()
    assert (app / "Contents" / "Info.plist").is_file()
    assert (app / "Contents" / "_CodeSignature" / "CodeResources").is_file()
    report = verify_app(app)
    assert report.ok, report

    # Nothing changed: a second run builds nothing, and the .dmg is the same bytes.
    first = dmg.read_bytes()
    standin_mac.ran = []
    again = _build(farm_cache, tmp_path / "dist2")
    assert again.summary.built == [] and standin_mac.ran == []
    assert again.files["dmg"].read_bytes() == first

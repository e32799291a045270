"""Third-party programs in the static bundle: an app lists gpg and 7zz, the farm builds and
bundles them, and the app runs them through apaf.binary() in an empty root.

The toolbox test app (tests/integration/apps/toolbox) makes a key, signs, verifies and packs
a file at start, sandboxed (it may execute exactly its listed programs); this test reads what happened from its data dir and checks the signature
and the archive again with the host's own gpg and 7z (independent readers). This module's
bundle is the suite's one extra bundle build: cold, gnupg (~40 s CPU) and 7zip (~2 min CPU)
plus freeze/static/deb/rpm of the app; tor, CPython and the wheels are shared with the chat
bundle. The slow test builds gnupg and 7zip once more in the session's second checkout
(~150 s CPU) to compare bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from builders.bundle.app_build import build_app
from fixtures.bundle import empty_root, run_in_root

TOOLBOX = Path(__file__).resolve().parents[1] / "integration" / "apps" / "toolbox"
pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def toolbox_bundle(farm_cache, tmp_path_factory):
    started = time.monotonic()
    result = build_app(TOOLBOX, "linux-x86_64", dist=tmp_path_factory.mktemp("dist"), cache_root=farm_cache)
    print(f"\ntoolbox bundle: {time.monotonic() - started:.0f}s wall, built {', '.join(result.summary.built)}")
    return result


def wait_for(path: Path, rt, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert rt.proc.poll() is None, f"the runtime exited: {rt.lines}"
        assert time.monotonic() < deadline, f"no {path} after {timeout}s: {rt.lines}"
        time.sleep(0.5)
    time.sleep(0.2)  # written in one call; let it land
    return json.loads(path.read_text())


def test_app_signs_verifies_and_archives_with_the_bundled_programs(toolbox_bundle, testnet, tmp_path):
    root = empty_root(tmp_path / "root")
    shutil.copy2(toolbox_bundle.files["static"], root / "toolbox")
    with run_in_root(root, ["/toolbox", "--testnet", "--no-browser", "--data-dir", "/tmp/data"], testnet) as rt:
        data = root / "tmp" / "data" / "apps" / "toolbox"
        result = wait_for(data / "result.json", rt)
        assert "error" not in result, result
        # The programs are the bundle's own, unpacked with it under the root's /tmp: exactly
        # the listed ones (nothing on PATH, no libc in the root: both are static).
        gpg, sevenzip = root / result["paths"]["gpg"].lstrip("/"), root / result["paths"]["7zz"].lstrip("/")
        assert result["paths"]["gpg"].startswith("/tmp/") and gpg.parent == sevenzip.parent
        assert sorted(p.name for p in gpg.parent.iterdir()) == ["7zz", "gpg"]
        for step in ("genkey", "export", "sign", "verify", "compress", "list", "extract"):
            assert result[step]["rc"] == 0, result[step]
        assert 'Good signature from "Toolbox Test <toolbox@example.invalid>"' in result["verify"]["out"]
        assert result["verify_tampered"]["rc"] != 0 and "BAD signature" in result["verify_tampered"]["out"]
        assert result["roundtrip"] is True and "document.txt" in result["list"]["out"]
        # All of it sandboxed: the listed programs ran, the bundle's own executable did not.
        assert rt.status()["sandbox"]["files"], "this test expects a kernel with Landlock"
        assert "apaf sandbox: confined in" in (root / "tmp" / "data" / "run" / "logs" / "toolbox.log").read_text()
        assert result["unlisted"].get("refused", "").startswith("PermissionError"), result["unlisted"]

    # What the app made, read by the host's gpg and 7z: a real OpenPGP signature, a real .7z.
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    host_gpg = ["gpg", "--homedir", str(home), "--batch"]
    subprocess.run(host_gpg + ["--import", str(data / "public.asc")], check=True, capture_output=True)
    verified = subprocess.run(host_gpg + ["--status-fd", "1", "--verify", str(data / "document.sig"),
                                          str(data / "document.txt")], capture_output=True, text=True)
    assert verified.returncode == 0 and "[GNUPG:] GOODSIG" in verified.stdout, verified.stderr
    assert "[GNUPG:] VALIDSIG" in verified.stdout and " 8 00 " in verified.stdout.split("VALIDSIG", 1)[1]  # SHA-256
    out = tmp_path / "unpacked"
    subprocess.run(["7z", "x", "-y", f"-o{out}", str(data / "document.7z")], check=True, capture_output=True)
    assert (out / "document.txt").read_bytes() == (data / "document.txt").read_bytes()
    assert os.path.getsize(data / "document.7z") < os.path.getsize(data / "document.txt") / 10


@pytest.mark.slow
def test_a_second_checkout_builds_the_same_programs(toolbox_bundle, second_checkout, tmp_path):
    """gpg and 7zz built cold in another checkout at another path, with its own cache, are the
    same bytes (the toolchain's reproducibility check, for the bundled programs)."""
    checkout, cache, run = second_checkout
    proc = run("binaries", "--dest", str(tmp_path / "bin"), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads(proc.stdout)
    assert all(s["out"].startswith(str(cache)) for s in second["steps"])
    first = {s.id: Path(s.out) for s in toolbox_bundle.summary.steps}
    for step, program in (("gnupg@musl", "gpg"), ("7zip@gnu", "7zz")):
        mine = (first[step] / "bin" / program).read_bytes()
        assert (tmp_path / "bin" / program).read_bytes() == mine, f"{program} differs across checkouts"
    built = {s["id"]: s for s in second["steps"] if s["status"] == "built"}
    print("\nprograms built cold in the second checkout: " + ", ".join(
        f"{i} {s['seconds']:.0f}s wall {s['cpu_seconds']:.0f}s CPU" for i, s in built.items()))

"""extra_binaries in the dev tree: `apaf run APP` with APAF_BINARIES pointing at the farm-built
programs (what `ci/farm binaries --dest DIR` makes); the toolbox app signs and packs with them,
sandboxed like in a bundle. The programs come from the same cached steps as the toolbox bundle
(tests/e2e/test_bundled_binaries.py), so the suite builds them once.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from apaf.binaries import PROGRAMS
from builders.build import Build
from builders.bundle.binaries import binaries_target, binary_steps
from builders.executors import get as get_executor
from builders.progress import PlainProgress
from fixtures.runtime import apaf_run

TOOLBOX = Path(__file__).resolve().parent / "apps" / "toolbox"
pytestmark = pytest.mark.timeout(1200)  # cold: gnupg and 7zip are built first


@pytest.fixture(scope="module")
def binaries_dir(farm_cache, tmp_path_factory) -> Path:
    target = binaries_target("linux-x86_64")
    summary = Build(target, get_executor("local", source_date_epoch=target.source_date_epoch),
                    cache_root=farm_cache, progress=PlainProgress()).run()
    dest = tmp_path_factory.mktemp("binaries")
    for name, spec in binary_steps("linux-x86_64").items():
        for f in PROGRAMS[name].files:
            shutil.copy2(Path(summary.outputs[spec.partition("@")[0]]) / "bin" / f, dest / f)
    return dest


def test_app_in_the_dev_tree_runs_the_programs_from_apaf_binaries(binaries_dir, testnet, tmp_path):
    data = tmp_path / "data"
    with apaf_run(data, [TOOLBOX], testnet, env={"APAF_BINARIES": str(binaries_dir)}) as rt:
        result_file = data / "apps" / "toolbox" / "result.json"
        deadline = time.monotonic() + 120
        while not result_file.exists():
            assert rt.proc.poll() is None and time.monotonic() < deadline, rt.lines
            time.sleep(0.5)
        time.sleep(0.2)
        result = json.loads(result_file.read_text())
        assert "error" not in result, result
        assert result["paths"] == {"gpg": str(binaries_dir / "gpg"), "7zz": str(binaries_dir / "7zz")}
        for step in ("genkey", "sign", "verify", "compress", "extract"):
            assert result[step]["rc"] == 0, result[step]
        assert "Good signature" in result["verify"]["out"] and result["roundtrip"] is True
        assert result["verify_tampered"]["rc"] != 0
        # Sandboxed as in the bundle: the dev tree's Python is not a program the app lists.
        assert result["unlisted"].get("refused", "").startswith("PermissionError"), result["unlisted"]
        log = (data / "run" / "logs" / "toolbox.log").read_text()
        assert "apaf sandbox: confined in" in log and "refused execute" in log

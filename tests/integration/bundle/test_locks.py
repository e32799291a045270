"""An app with dependencies: `lock` pins them with the target's CPython; the wheels step fetches them.

Uses the package index from this machine's pip config (the network is needed to lock,
as for a developer). Wall time: ~20-40 s once the session's toolchain exists.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from fixtures.bundle import CHAT

from builders.build import Build
from builders.bundle.app_build import RUNTIME, bundle_target, check_locks, load_app, stage_inputs
from builders.bundle.desktop import PackageInfo
from builders.bundle.lock import pins, write_lock
from builders.bundle.pipconf import network_env
from builders.errors import ConfigError
from builders.executors import get as get_executor
from builders.progress import PlainProgress

pytestmark = pytest.mark.timeout(2400)


def test_app_dependencies_are_locked_and_land_in_the_wheelhouse(chat_bundle, farm_cache, tmp_path):
    app = tmp_path / "chat"
    shutil.copytree(CHAT, app)
    toml = (app / "apaf.toml").read_text().replace('ports = [80]', 'ports = [80]\ndependencies = ["six", "idna"]')
    (app / "apaf.toml").write_text(toml)
    manifest = load_app(app)
    with pytest.raises(ConfigError, match=f"requirements.lock is missing.*ci/farm lock --app {app}"):
        check_locks(manifest)
    cpython = next(Path(s.out) for s in chat_bundle.summary.steps if s.id == "cpython@gnu")
    versions = write_lock(cpython / "bin" / "python3.13", list(manifest.dependencies), app / "requirements.lock",
                          constraints=RUNTIME / "requirements.lock", exclude_constrained=True, env=network_env())
    assert list(versions) == ["six"]            # idna comes with the runtime, pinned there
    assert "--hash=sha256:" in (app / "requirements.lock").read_text()
    check_locks(manifest)                       # now fresh
    target = bundle_target("linux-x86_64")
    inputs = stage_inputs(manifest, PackageInfo.from_manifest(manifest), tmp_path / "inputs", target.source_date_epoch)
    summary = Build(dataclasses.replace(target, outputs={"wheels": "gnu"}), get_executor("local", source_date_epoch=target.source_date_epoch),
                    cache_root=farm_cache, outputs=["wheels"], progress=PlainProgress(),
                    inputs=inputs, network_env=network_env()).run()
    wheelhouse = Path(summary.outputs["wheels"])
    assert [p.name.split("-")[0] for p in (wheelhouse / "app").iterdir()] == ["six"]
    assert pins(app / "requirements.lock")["six"] in next((wheelhouse / "app").iterdir()).name

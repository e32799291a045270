"""The docker builder against the real Docker engine: same bytes as local, nothing left behind."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import docker
import pytest

from builders import images
from builders.errors import ExecutorError, StepFailed, ToolMissing
from builders.executors import get as get_executor
from fixtures.builders import HookProgress, cache_is_empty, run_build, tree_hashes

pytestmark = pytest.mark.slow


def _step_containers() -> list:
    return docker.from_env().containers.list(all=True, filters={"label": "apaf.step"})


@pytest.fixture(scope="module")
def zlib_target(one_recipe_target):
    return one_recipe_target("zlib", "musl")


@pytest.fixture(scope="module")
def zlib_local(zlib_target, fresh_cache):
    s = run_build(zlib_target, get_executor("local", source_date_epoch=zlib_target.source_date_epoch),
                  fresh_cache("zlib-local-d"))
    return tree_hashes(s.outputs["zlib"])


def _docker(target, **kw):
    return get_executor("docker", source_date_epoch=target.source_date_epoch, **kw)


def test_step_in_container_equals_local_and_leaves_no_container(toolchain_image, zlib_target, zlib_local,
                                                                fresh_cache):
    summary = run_build(zlib_target, _docker(zlib_target), fresh_cache("zlib-docker"))
    out = Path(summary.outputs["zlib"])
    assert tree_hashes(out) == zlib_local
    assert all(p.stat().st_uid == 0 for p in out.rglob("*"))   # the invoking user (root here)
    assert _step_containers() == []


def test_remote_engine_mode_copies_inputs_in_and_gives_the_same_bytes(toolchain_image, zlib_target, zlib_local,
                                                                     fresh_cache):
    """copy_inputs=True is what a DOCKER_HOST=ssh://… engine gets (it cannot see our files); same engine here."""
    summary = run_build(zlib_target, _docker(zlib_target, copy_inputs=True), fresh_cache("zlib-docker-copy"))
    assert tree_hashes(summary.outputs["zlib"]) == zlib_local
    assert _step_containers() == []


def test_step_killed_midway_leaves_no_container_and_nothing_cached(toolchain_image, zlib_target, fresh_cache):
    cache = fresh_cache("zlib-docker-killed")
    killed = []

    def on_line(step_id, line):
        if line.startswith("=== unpack") and not killed:
            for c in _step_containers():
                c.kill()
                killed.append(c.short_id)

    with pytest.raises(StepFailed, match=r"zlib@musl failed in container .*\(exit 137 \(killed\)\)"):
        run_build(zlib_target, _docker(zlib_target), cache, HookProgress(on_line))
    assert killed
    assert _step_containers() == []
    assert cache_is_empty(cache)


def test_cancel_midway_like_ctrl_c_removes_the_container_and_caches_nothing(toolchain_image, zlib_target,
                                                                           fresh_cache):
    cache = fresh_cache("zlib-docker-cancel")
    executor = _docker(zlib_target)
    seen = threading.Event()

    def on_line(step_id, line):
        if line.startswith("=== unpack"):
            seen.set()
            executor.cancel()          # what Build.run does on KeyboardInterrupt

    with pytest.raises((StepFailed, ExecutorError)):
        run_build(zlib_target, executor, cache, HookProgress(on_line))
    assert seen.is_set()
    assert _step_containers() == []
    assert cache_is_empty(cache)


def test_missing_image_says_how_to_build_it(zlib_target, tmp_path, monkeypatch):
    (tmp_path / "bookworm-build.toml").write_text('suite = "bookworm"\npackages = ["this-makes-another-hash"]\n')
    monkeypatch.setattr(images, "IMAGES", tmp_path)
    with pytest.raises(ToolMissing, match=r"run `ci/farm images.build --name bookworm-build`"):
        _docker(zlib_target).check(zlib_target)


def test_unreachable_engine_is_a_clear_error(zlib_target, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(ExecutorError, match=r"cannot reach the Docker engine at unix:///nonexistent"):
        _docker(zlib_target).check(zlib_target)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_docker_toolchain_is_bit_identical_to_local(linux_toolchain, docker_toolchain):
    local, dock = linux_toolchain.outputs, docker_toolchain.outputs
    assert docker_toolchain.executor == "docker"
    assert _sha(Path(dock["tor"]) / "bin/tor") == _sha(Path(local["tor"]) / "bin/tor")
    lib = "lib/libpython3.13.so.1.0"
    assert _sha(Path(dock["cpython"]) / lib) == _sha(Path(local["cpython"]) / lib)
    for out in ("tor", "cpython"):
        a, b = tree_hashes(Path(local[out])), tree_hashes(Path(dock[out]))
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        assert differ == [], f"{out}: {len(differ)} files differ, e.g. {differ[:10]}"

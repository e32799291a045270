"""The docker builder against the real Docker engine: same bytes as local, nothing left behind."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from builders import images
from builders.errors import ExecutorError, StepFailed, ToolMissing
from builders.executors import get as get_executor
from fixtures.builders import HookProgress, cache_is_empty, run_build, tree_hashes

pytestmark = pytest.mark.slow


def _step_containers(pid: int | None = None) -> list:
    """Step containers this test process (or process pid) started; other builds may run meanwhile."""
    label = f"apaf.pid={pid or os.getpid()}"
    # The low-level call: one request, no per-container inspect racing a removal.
    return [c["Id"] for c in docker.from_env().api.containers(all=True, filters={"label": ["apaf.step", label]})]


def _docker(target, **kw):
    return get_executor("docker", source_date_epoch=target.source_date_epoch, **kw)


def test_step_in_container_equals_local_and_leaves_no_container(toolchain_image, zlib_target, zlib_local,
                                                                fresh_cache):
    summary = run_build(zlib_target, _docker(zlib_target), fresh_cache("zlib-docker"))
    out = Path(summary.outputs["zlib"])
    assert tree_hashes(out) == zlib_local
    assert all(p.stat().st_uid == 0 for p in out.rglob("*"))   # the invoking user (root here)
    assert _step_containers() == []
    # The summary counts the container's compile time (zlib: about 2 CPU-s), not 0.
    assert summary.cpu_seconds > 0.5, summary.to_dict()


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
            for cid in _step_containers():
                docker.from_env().api.kill(cid)
                killed.append(cid)

    with pytest.raises(StepFailed, match=r"zlib@musl failed in container .*\(exit 137 \(killed\)\)"):
        run_build(zlib_target, _docker(zlib_target), cache, HookProgress(on_line))
    assert killed
    assert _step_containers() == []
    assert cache_is_empty(cache)


_CTRL_C_CHILD = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{repo!r}, {tests!r}]
from builders.executors import get
from builders.recipes import load_target
from fixtures.builders import HookProgress, run_build

def on_line(step_id, line):
    # The step is running in its container (its log is streaming): press Ctrl-C now.
    if line.startswith("=== unpack"):
        print("sending SIGINT", flush=True)
        os.kill(os.getpid(), signal.SIGINT)

# Ctrl-C at a terminal reaches a farm run in the foreground, where SIGINT raises KeyboardInterrupt.
# A suite started with `&` from a shell without job control ignores SIGINT (POSIX), and that (or a
# blocked SIGINT) is inherited through exec: this farm would then ignore its Ctrl-C too, as it should,
# and build to the end with exit 0. Set the foreground's disposition, whatever started the suite.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {{signal.SIGINT}})

t = load_target({name!r}, Path({root!r}))
run_build(t, get("docker", source_date_epoch=t.source_date_epoch), Path({cache!r}), HookProgress(on_line))
"""


def test_ctrl_c_midway_removes_the_container_and_caches_nothing(toolchain_image, zlib_target, fresh_cache):
    """A real SIGINT to a farm process whose step is running in a container.

    The farm process signals itself when the step's first log line arrives: a zlib step
    lasts only ~3 s on an idle machine, too short to aim a signal at from outside."""
    cache = fresh_cache("zlib-docker-ctrl-c")
    tests = Path(__file__).resolve().parents[2]
    code = _CTRL_C_CHILD.format(repo=str(tests.parent), tests=str(tests), name=zlib_target.name,
                                root=str(zlib_target.path.parent), cache=str(cache))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "sending SIGINT" in out, out[-2000:]
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in out, out[-2000:]
    assert _step_containers(proc.pid) == []
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


def test_docker_app_bundle_is_bit_identical_to_local(chat_bundle, docker_toolchain, farm_cache, tmp_path):
    """examples/chat built with --builder docker: the static ELF, .deb and .rpm equal the local ones."""
    from builders.bundle.app_build import build_app
    from fixtures.bundle import CHAT

    result = build_app(CHAT, "linux-x86_64", dist=tmp_path, builder="docker", cache_root=farm_cache)
    assert result.summary.executor == "docker"
    assert result.inputs == chat_bundle.inputs, "the app or runtime changed between the two builds"
    for kind in ("static", "deb", "rpm"):
        assert _sha(result.files[kind]) == _sha(chat_bundle.files[kind]), kind

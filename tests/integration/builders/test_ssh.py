"""The SSH builder against a real OpenSSH server on loopback: what a release engineer checks."""
from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from builders.errors import ExecutorError, StepFailed
from builders.executors import get as get_executor
from fixtures.builders import HookProgress, cache_is_empty, run_build, tree_hashes

pytestmark = pytest.mark.slow


def _ssh(sshd_builder, target, inventory=None):
    return get_executor("ssh:loopback", inventory=inventory or sshd_builder.inventory,
                        source_date_epoch=target.source_date_epoch)


def test_remote_step_output_equals_local(sshd_builder, zlib_target, zlib_local, fresh_cache):
    progress = HookProgress()
    summary = run_build(zlib_target, _ssh(sshd_builder, zlib_target), fresh_cache("zlib-ssh"), progress)
    assert summary.executor == "ssh:loopback" and summary.built == ["zlib@musl"]
    assert tree_hashes(summary.outputs["zlib"]) == zlib_local
    assert "lib/libz.a" in zlib_local
    # The build's own output came back through the link, and the remote folder is gone.
    assert any(line.startswith("=== make") for line in progress.lines), progress.lines[-20:]
    assert list(sshd_builder.work_dir.iterdir()) == []


def test_steps_run_side_by_side_on_one_host(sshd_builder, fresh_cache, tmp_path):
    """Steps at once on one SSH builder: one starting while another runs leaves the other's folder alone."""
    from fixtures.builders import make_target
    # xz (~15 s) and zlib start together; bzip2 starts when zlib is done, in the middle of xz.
    target = make_target(tmp_path / "t", "xz-zlib-bzip2", {"xz": "gnu", "zlib": "gnu", "bzip2": "gnu"})
    summary = run_build(target, _ssh(sshd_builder, target), fresh_cache("ssh-parallel"), parallel=2)
    assert sorted(summary.built) == ["bzip2@gnu", "xz@gnu", "zlib@gnu"]
    assert (Path(summary.outputs["xz"]) / "lib/liblzma.a").is_file()
    assert (Path(summary.outputs["zlib"]) / "lib/libz.a").is_file()
    assert (Path(summary.outputs["bzip2"]) / "lib/libbz2.a").is_file()
    assert list(sshd_builder.work_dir.iterdir()) == []


def _cut_on_first_line(sshd_builder, attempts_to_cut: int):
    """A log hook that kills the sshd session processes once per attempt, for the first N attempts."""
    cut = {"n": 0, "armed": True}
    lock = threading.Lock()

    def on_line(step_id, line):
        with lock:
            if line.startswith("! link to"):          # the executor is about to retry: re-arm
                cut["armed"] = True
            elif line.startswith("=== unpack") and cut["armed"] and cut["n"] < attempts_to_cut:
                cut["armed"] = False
                cut["n"] += 1
                assert sshd_builder.kill_sessions() >= 1
    return on_line, cut


def test_link_cut_once_is_retried_and_output_still_equals_local(sshd_builder, zlib_target, zlib_local,
                                                                 fresh_cache):
    on_line, cut = _cut_on_first_line(sshd_builder, 1)
    progress = HookProgress(on_line)
    summary = run_build(zlib_target, _ssh(sshd_builder, zlib_target), fresh_cache("zlib-ssh-cut1"), progress)
    assert cut["n"] == 1
    assert any("attempt 2 of 3" in line for line in progress.lines)
    assert tree_hashes(summary.outputs["zlib"]) == zlib_local


def test_link_cut_every_time_fails_clearly_and_caches_nothing(sshd_builder, zlib_target, fresh_cache):
    cache = fresh_cache("zlib-ssh-cut-always")
    on_line, cut = _cut_on_first_line(sshd_builder, 99)
    with pytest.raises(ExecutorError) as err:
        run_build(zlib_target, _ssh(sshd_builder, zlib_target), cache, HookProgress(on_line))
    msg = str(err.value)
    assert cut["n"] == 3, "2 retries = 3 attempts, then stop"
    assert "lost the link to SSH builder 'loopback'" in msg and "zlib@musl" in msg and "3 attempts" in msg
    assert f"127.0.0.1:{sshd_builder.port}" in msg
    assert cache_is_empty(cache)
    # The cut-off remote steps were killed with their link and their folders removed (the host's
    # side of a cut link finishes removing its folder a moment after the error).
    assert list(sshd_builder.work_dir.iterdir()) == []
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", "zlib_musl-"], capture_output=True).stdout:
        assert time.monotonic() < deadline, "remote step still running 10 s after its link was cut"
        time.sleep(0.2)


def test_unknown_host_key_is_refused_with_how_to_trust_it(sshd_builder, zlib_target, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    inv = sshd_builder.write_inventory(tmp_path / "builders.toml", known_hosts=empty)
    with pytest.raises(ExecutorError) as err:
        _ssh(sshd_builder, zlib_target, inv).check(zlib_target)
    msg = str(err.value)
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(sshd_builder.host_pub)], capture_output=True,
                                 text=True, check=True).stdout.split()[1]
    assert fingerprint in msg
    assert f"ssh-keyscan -p {sshd_builder.port} -t ssh-ed25519 127.0.0.1 >> {empty}" in msg
    assert empty.read_text() == "", "nothing is trusted behind the user's back"


def test_changed_host_key_is_refused_as_possible_attack(sshd_builder, zlib_target, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    kind, key = (tmp_path / "other.pub").read_text().split()[:2]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd_builder.port} {kind} {key}\n")
    inv = sshd_builder.write_inventory(tmp_path / "builders.toml", known_hosts=wrong)
    with pytest.raises(ExecutorError, match="CHANGED"):
        _ssh(sshd_builder, zlib_target, inv).check(zlib_target)


def test_unknown_builder_name_lists_the_inventory(sshd_builder):
    from builders.errors import ConfigError
    with pytest.raises(ConfigError, match=r"no SSH builder 'nope'.*known: loopback"):
        get_executor("ssh:nope", inventory=sshd_builder.inventory)


def test_ctrl_c_stops_the_remote_step_without_retrying(sshd_builder, zlib_target, fresh_cache):
    cache = fresh_cache("zlib-ssh-cancel")
    executor = _ssh(sshd_builder, zlib_target)

    def on_line(step_id, line):
        if line.startswith("=== unpack"):
            executor.cancel()          # what Build.run does on KeyboardInterrupt

    progress = HookProgress(on_line)
    with pytest.raises(StepFailed, match="cancelled"):
        run_build(zlib_target, executor, cache, progress)
    assert not any(line.startswith("! link to") for line in progress.lines), "a cancel is not retried"
    assert cache_is_empty(cache)
    deadline = time.monotonic() + 10    # the remote step dies with its link
    while subprocess.run(["pgrep", "-f", "zlib_musl-"], capture_output=True).stdout:
        assert time.monotonic() < deadline, "remote step still running after the link closed"
        time.sleep(0.2)

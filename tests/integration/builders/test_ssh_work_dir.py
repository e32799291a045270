"""The SSH builder refuses a work_dir another account of the host could swap step folders in.

The attack (reproduced by hand against this sshd): another user of the build host made
/var/tmp/apaf before the farm first used it; they renamed each step's folder away and put
their own in its place, and the farm cached the libz.a they planted. Real sshd on
loopback, one tiny build.sh per accepted case (about a second each).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from builders.errors import ExecutorError
from builders.executors import get as get_executor
from builders.executors.base import Job

pytestmark = pytest.mark.slow

OTHER_UID = 65534  # nobody: an account that is not the build account


def _executor(sshd_builder, tmp_path: Path, work_dir: Path):
    builder = dataclasses.replace(sshd_builder, work_dir=work_dir)
    inv = builder.write_inventory(tmp_path / "builders.toml", known_hosts=sshd_builder.dir / "known_hosts")
    return get_executor("ssh:loopback", inventory=inv)


def _job(tmp_path: Path, then: str = "") -> Job:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    script = f"echo built > /srv/apaf/out/result\n{then}\n"
    return Job(step_id="workdir@ssh", recipe_files={"build.sh": script.encode()},
               sources=[], deps={}, out_dir=out, work_dir=tmp_path / "stage")


def _refused(sshd_builder, tmp_path, work_dir: Path) -> str:
    with pytest.raises(ExecutorError) as err:
        _executor(sshd_builder, tmp_path, work_dir).run(_job(tmp_path), lambda line: None)
    return str(err.value)


def test_a_work_dir_owned_by_another_account_is_refused_before_anything_is_uploaded(sshd_builder, tmp_path):
    planted = tmp_path / "host" / "apaf"
    planted.mkdir(parents=True)
    os.chown(planted, OTHER_UID, OTHER_UID)
    os.chmod(planted, 0o777)
    msg = _refused(sshd_builder, tmp_path, planted)
    assert f"{planted} belongs to another account (uid {OTHER_UID})" in msg and "work_dir" in msg, msg
    assert list(planted.iterdir()) == []          # no step folder was made in it


def test_a_folder_above_it_writable_by_others_is_refused(sshd_builder, tmp_path):
    shared = tmp_path / "shared"                  # ours, but anyone may rename what is in it
    (shared / "apaf").mkdir(parents=True, mode=0o700)
    os.chmod(shared, 0o777)
    msg = _refused(sshd_builder, tmp_path, shared / "apaf")
    assert f"{shared} is writable by other accounts (mode 0777, no sticky bit)" in msg, msg
    os.chmod(shared, 0o1777)                      # sticky, like /tmp: others cannot rename our entries
    job = _job(tmp_path / "sticky")
    _executor(sshd_builder, tmp_path, shared / "apaf").run(job, lambda line: None)
    assert (job.out_dir / "result").read_text() == "built\n"


def test_a_work_dir_symlink_re_pointed_during_the_step_does_not_redirect_the_outputs(sshd_builder, tmp_path):
    """Whoever re-points a symlink on the path mid-step gets nothing: the resolved path is used throughout."""
    real, decoy = tmp_path / "real-work", tmp_path / "decoy"
    real.mkdir(mode=0o700)
    decoy.mkdir(mode=0o700)
    link = tmp_path / "work-link"
    link.symlink_to(real)
    job = _job(tmp_path, then=f"ln -sfn {decoy} {link}")
    _executor(sshd_builder, tmp_path, link).run(job, lambda line: None)
    assert link.resolve() == decoy                          # the step did re-point it
    assert (job.out_dir / "result").read_text() == "built\n"
    assert list(real.iterdir()) == [] and list(decoy.iterdir()) == []

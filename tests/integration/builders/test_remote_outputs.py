"""A remote builder's outputs may not link out of out/: the attack and the honest case, over the real sshd.

The attack (reproduced by hand): a builder handed back lib/libz.a -> /etc/shadow, the
farm cached it, and reading the "library" on this machine gave /etc/shadow's bytes (so
would the next local step packaging it). Docker's copy-out goes through the same
extract_outputs. One tiny build.sh per case, a few seconds each.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from builders.errors import ExecutorError
from builders.executors import get as get_executor
from builders.executors.base import Job

pytestmark = pytest.mark.slow


def _run(sshd_builder, tmp_path: Path, script: str) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    job = Job(step_id="outputs@ssh", recipe_files={"build.sh": ("cd /srv/apaf/out && mkdir lib && " + script).encode()},
              sources=[], deps={}, out_dir=out, work_dir=tmp_path / "stage")
    get_executor("ssh:loopback", inventory=sshd_builder.inventory).run(job, lambda line: None)
    return out


@pytest.mark.parametrize("target", ["/etc/shadow", "../../../../etc/shadow"])
def test_a_link_out_of_the_outputs_is_refused(sshd_builder, tmp_path, target):
    with pytest.raises(ExecutorError) as err:
        _run(sshd_builder, tmp_path, f"ln -s {target} lib/libz.a")
    assert "'lib/libz.a'" in str(err.value) and "refused" in str(err.value), err.value
    assert not (tmp_path / "out" / "lib" / "libz.a").is_symlink()


def test_links_inside_the_outputs_are_kept(sshd_builder, tmp_path):
    """Like CPython's lib/libpython3.13.so -> libpython3.13.so.1.0."""
    out = _run(sshd_builder, tmp_path, "echo lib > lib/libz.so.1 && ln -s libz.so.1 lib/libz.so")
    assert (out / "lib" / "libz.so").readlink() == Path("libz.so.1")
    assert (out / "lib" / "libz.so").read_text() == "lib\n"

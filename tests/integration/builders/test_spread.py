"""Several targets at once are spread over the builders that can build them (local + real sshd)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from builders.build import Build
from builders.errors import ConfigError
from builders.progress import PlainProgress
from builders.spread import assign, build_all

pytestmark = pytest.mark.slow


def test_two_targets_go_to_two_builders_and_both_build(sshd_builder, one_recipe_target, fresh_cache, monkeypatch):
    monkeypatch.setenv("APAF_BUILDERS", str(sshd_builder.inventory))
    targets = [one_recipe_target("zlib", "musl"), one_recipe_target("bzip2", "gnu")]
    cache = fresh_cache("spread")

    def make_build(target, executor):
        return Build(target, executor, cache_root=cache, progress=PlainProgress(), parallel=1)

    summaries = build_all(targets, ["local", "ssh:loopback"], make_build)
    assert sorted(s.executor for s in summaries) == ["local", "ssh:loopback"]
    assert [s.target for s in summaries] == ["zlib-only", "bzip2-only"]
    for s, recipe, lib in zip(summaries, ("zlib", "bzip2"), ("libz.a", "libbz2.a")):
        assert s.built == [f"{recipe}@{'musl' if recipe == 'zlib' else 'gnu'}"]
        assert (Path(s.outputs[recipe]) / "lib" / lib).is_file()


def test_a_target_no_requested_builder_may_run_says_why(sshd_builder, one_recipe_target, monkeypatch):
    monkeypatch.setenv("APAF_BUILDERS", str(sshd_builder.inventory))
    local_only = dataclasses.replace(one_recipe_target("zlib", "musl"), builders=("local",))
    with pytest.raises(ConfigError) as err:
        assign([local_only], ["docker", "ssh:loopback"])
    assert "no builder can build zlib-only" in str(err.value)
    assert "ssh:loopback: not in the target's builders (local)" in str(err.value)

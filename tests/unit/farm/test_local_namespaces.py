"""The local builder says why and what to do when the system refuses its namespaces (a container
without CAP_SYS_ADMIN), before the first step, instead of unshare's bare error halfway through."""
from __future__ import annotations

import pytest

from builders.errors import ToolMissing
from builders.executors import local
from builders.recipes import load_target


def test_refused_namespaces_name_the_fix(monkeypatch):
    refuse = ["sh", "-c", "echo 'unshare: unshare failed: Operation not permitted' >&2; exit 1"]
    monkeypatch.setattr(local, "namespace_argv", lambda *a, **k: refuse)
    local._namespaces_refused.cache_clear()
    try:
        with pytest.raises(ToolMissing) as err:
            local.LocalExecutor().check(load_target("linux-x86_64"))
    finally:
        local._namespaces_refused.cache_clear()
    text = str(err.value)
    assert "Operation not permitted" in text and "--privileged" in text and "--builder docker" in text


def test_this_machine_allows_them():
    local._namespaces_refused.cache_clear()
    assert local._namespaces_refused() == ""

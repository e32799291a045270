"""The README's first command sets the farm up on a minimal Debian root (no Python, no compiler, no Docker).

Runs `ci/farm --list` in a container made from a debootstrapped minbase bookworm:
it must install the Debian packages, create the venv from the hashed pins and list
the tasks, as a new user's first run would.
"""
from __future__ import annotations

import time

import pytest

from fixtures.fresh_debian import copy_checkout

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_readme_setup_works_on_a_minimal_debian_root(fresh_machine_run, tmp_path):
    checkout = copy_checkout(REPO, tmp_path / "apaf")
    bare = fresh_machine_run(checkout, "command -v python3 || echo no-python3; command -v gcc || echo no-gcc")
    assert "no-python3" in bare.stdout and "no-gcc" in bare.stdout, "the root is not minimal: " + bare.stdout

    start = time.monotonic()
    first = fresh_machine_run(checkout, "ci/farm --list && ci/farm --list >/dev/null && .venv/bin/python -c "
                                        "'import invoke, apaf, builders; print(\"imports ok\")'")
    took = time.monotonic() - start
    print(f"\nci/farm --list on a fresh root: {took:.0f}s (apt packages, venv, invoke)")
    assert first.returncode == 0, first.stdout[-4000:]
    assert "Available tasks:" in first.stdout and "toolchain" in first.stdout
    assert "imports ok" in first.stdout
    assert "ensurepip is not available" not in first.stdout

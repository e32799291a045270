"""Loads the shared fixture modules in tests/fixtures/."""
import os
import pkgutil

import pytest

# Fixture modules import each other; rewrite them all before the first import.
pytest.register_assert_rewrite("fixtures")

pytest_plugins = sorted(
    f"fixtures.{m.name}"
    for m in pkgutil.iter_modules([os.path.join(os.path.dirname(__file__), "fixtures")])
)

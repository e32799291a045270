"""Loads the shared fixture modules in tests/fixtures/."""
import pkgutil
import os

pytest_plugins = sorted(
    f"fixtures.{m.name}"
    for m in pkgutil.iter_modules([os.path.join(os.path.dirname(__file__), "fixtures")])
)

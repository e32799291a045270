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


# Session fixtures that build something expensive, and how long their cold build may take
# on a loaded 2-core machine (measured cold figures, with margin). pytest-timeout counts a
# fixture's setup against the first test that asks for it, so that test gets the fixture's
# budget on top of its own instead of failing a cold run at the default limit.
BUILD_BUDGETS = {
    "linux_toolchain": 1500,      # tor + CPython stacks: ~270 s idle, ~800 s under load
    "toolchain_image": 600,       # debootstrap + apt + docker import: ~135 s idle
    "docker_toolchain": 2100,     # the same build in Docker on fuse-overlayfs: ~860 s idle
    "chat_bundle": 1200,          # wheels, freeze, static, deb, rpm on top of the toolchain
    "second_checkout": 600,
    "rcodesign": 2400,            # apple-codesign from the pinned crates: ~1,100 CPU-s, 10-25 min on 2 loaded cores
    "fresh_debian_image": 600,    # debootstrap minbase + docker import
}


def pytest_collection_modifyitems(config, items):
    default = float(config.getini("timeout") or 0)
    for item in items:
        extra = sum(BUILD_BUDGETS.get(name, 0) for name in item.fixturenames)
        if not extra:
            continue
        marker = item.get_closest_marker("timeout")
        own = float(marker.args[0]) if marker and marker.args else default
        item.add_marker(pytest.mark.timeout(own + extra), append=False)


@pytest.fixture(autouse=True, scope="session")
def _pytest_keeps_its_core_limit():
    """Runtimes started in this process call apaf.coredumps.disable(), which lowers the hard
    limit for good: pytest's own, inherited by every later child. test_coredumps (a runtime in a
    child, showing the limit drop) would then have nothing to show and skip. Here, in-process
    runtimes lower only the soft limit; the real disable() is what test_coredumps runs."""
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_CORE, nothing to keep
        yield
        return
    from apaf import coredumps

    def soft_only() -> bool:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        return True

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coredumps, "disable", soft_only)
        yield

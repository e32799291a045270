"""Executors run one build step somewhere: here, in a container, on a remote host.

One interface (`Executor` in base.py), one registry (`get`), no host `if`
outside these modules. A recipe never knows where it runs; an executor never
knows what a recipe builds.
"""
from __future__ import annotations

from ..errors import ConfigError
from .base import Executor, Job

_REGISTRY = {}


def register(kind: str):
    def deco(cls):
        _REGISTRY[kind] = cls
        return cls
    return deco


def get(spec: str, **options) -> Executor:
    """An executor from a `--builder` value: `local`, `docker`, `ssh:NAME`."""
    kind, _, arg = spec.partition(":")
    _load_builtin()
    if kind not in _REGISTRY:
        raise ConfigError(f"unknown builder '{spec}'; choose one of: "
                          + ", ".join(sorted(k + (":NAME" if k == "ssh" else "") for k in _REGISTRY)))
    return _REGISTRY[kind](arg, **options) if arg else _REGISTRY[kind](**options)


def kinds() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def _load_builtin() -> None:
    from . import local  # noqa: F401  (registers itself)
    from .platforms import host_os
    if host_os() == "macos":  # the one place the farm asks: `local` on a Mac is the macOS step runner
        from .local_macos import MacLocalExecutor
        _REGISTRY["local"] = MacLocalExecutor
    try:
        from . import docker  # noqa: F401
    except ImportError:
        pass
    try:
        from . import ssh  # noqa: F401
    except ImportError:
        pass


__all__ = ["Executor", "Job", "get", "kinds", "register"]

"""What differs between the operating systems a step can run on, one module per OS.

`get(os)` returns the platform for an inventory host's `os` (ssh) and
`host_os()` names the one this machine is (local); nothing else in the farm
asks which OS it is on. A platform knows how to probe a host, check it can
build a target, name its toolchain (step keys) and write the shell command
that runs one uploaded step there; the SSH executor does the transport.
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable, Protocol

from ...errors import ConfigError

Run = Callable[[str], tuple[int, str]]          # run a shell command on the host: (exit status, output)

_MODULES = {"linux": "linux", "macos": "macos"}


class Platform(Protocol):
    os: str
    probe: str                                  # a shell command printing the facts parse() reads
    new_group: str                              # a command prefix running its argv in a new process group

    def parse(self, out: str) -> dict:
        """The probe's output as facts (needs at least "nproc" and "arch")."""

    def check(self, where: str, facts: dict, target, run: Run) -> None:
        """Raise ToolMissing naming the fix if the host cannot build target."""

    def identity(self, facts: dict, target, run: Run) -> str:
        """The host's toolchain, for step keys."""

    def step_command(self, rdir: str, mounts, env: dict[str, str], *, network: bool,
                     facts: dict) -> tuple[str, str]:
        """(shell command running the step uploaded to rdir, a short form for the log)."""


def get(os_name: str, host=None) -> Platform:
    """The platform for an inventory host (or for this machine, host=None) running os_name."""
    if os_name not in _MODULES:
        raise ConfigError(f"unknown builder OS '{os_name}'; the farm drives: {', '.join(sorted(_MODULES))}")
    return importlib.import_module(f"{__name__}.{_MODULES[os_name]}").Platform(host)


def host_os() -> str:
    """The OS of this machine, as targets and inventories name it."""
    return "macos" if sys.platform == "darwin" else "linux"

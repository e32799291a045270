"""Which executor runs each step: the one whose OS the step runs on.

A build has a main executor (`--builder`) for the target's OS and may have
others for steps pinned elsewhere (a recipe's `runs_on`): a macOS build
compiles and freezes on a Mac (`--builder ssh:mac`) and signs and packs on
Linux (`--linux-builder`, default local). Each executor says which OS its
steps run on (`executor.os`); nothing else in the farm asks.
"""
from __future__ import annotations

from .errors import ConfigError
from .plan import Step


def executor_os(executor) -> str:
    return getattr(executor, "os", "linux")


class Placement:
    def __init__(self, main, others=()):
        self.main = main
        self.by_os: dict[str, object] = {}
        for executor in (*others, main):       # the main executor wins for its own OS
            self.by_os[executor_os(executor)] = executor

    def for_step(self, step: Step):
        try:
            return self.by_os[step.platform]
        except KeyError:
            have = ", ".join(f"{e.name} ({os_name})" for os_name, e in sorted(self.by_os.items()))
            fix = ("--builder ssh:NAME with an inventory entry `os = \"macos\"`, or run on a Mac with --builder local"
                   if step.platform == "macos" else "--linux-builder local|docker|ssh:NAME")
            raise ConfigError(f"step {step.id} runs on {step.platform}, but no builder given runs {step.platform} "
                              f"steps (given: {have}); add one: {fix}") from None

    def used(self, steps: list[Step]) -> dict[str, object]:
        """{os: executor} for the OSes these steps run on (ConfigError if one has none)."""
        return {s.platform: self.for_step(s) for s in steps}

    def all(self) -> list:
        return list(dict.fromkeys(self.by_os.values()))

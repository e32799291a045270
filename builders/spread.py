"""Several targets at once: each goes to a builder that can run it, the builds run side by side.

Deliberately not a scheduler: a target's steps all run on the one builder it
is given (its step keys name that builder's toolchain), targets are dealt to
the least-loaded builder that passes `check(target)`, and the builds run in
parallel threads. Past one machine, scale with the CI matrix (one job per
target) and remote Docker engines (`DOCKER_HOST=ssh://…`); see README.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from .errors import ConfigError, FarmError
from .executors import get as get_executor
from .inventory import load_inventory
from .placement import executor_os
from .recipes import Target


def configured_builders() -> list[str]:
    """`auto`: local, docker, and every host of the SSH inventory."""
    return ["local", "docker", *(f"ssh:{name}" for name in sorted(load_inventory()))]


def assign(targets: list[Target], builders: list[str]) -> dict[str, object]:
    """{target name: executor}; each target to the least-loaded builder that can run it."""
    if builders == ["auto"]:
        builders = configured_builders()
    load = {b: 0 for b in builders}
    chosen: dict[str, object] = {}
    for target in targets:
        reasons = []
        for spec in sorted(builders, key=lambda b: load[b]):
            if spec.split(":")[0] not in target.builders and len(builders) > 1:
                reasons.append(f"{spec}: not in the target's builders ({', '.join(target.builders)})")
                continue
            try:
                executor = get_executor(spec, source_date_epoch=target.source_date_epoch)
                if executor_os(executor) != target.os:
                    raise ConfigError(f"builder {spec} runs {executor_os(executor)} steps, {target.name} needs a "
                                      f"{target.os} builder" + (" (ssh:NAME with os = \"macos\" in the inventory, "
                                                                "or local on a Mac)" if target.os == "macos" else ""))
                executor.check(target)
            except FarmError as exc:
                if len(builders) == 1:
                    raise  # the one builder asked for: its own error says best what to do
                reasons.append(f"{spec}: {exc.message.splitlines()[0]}")
                continue
            chosen[target.name] = executor
            load[spec] += 1
            break
        else:
            raise ConfigError(f"no builder can build {target.name}:\n  " + "\n  ".join(reasons))
    return chosen


def build_all(targets: list[Target], builders: list[str], make_build: Callable) -> list:
    """Run make_build(target, executor).run() for every target in parallel; summaries in target order.

    The first failure is raised once every build has stopped (the others finish their running steps).
    """
    chosen = assign(targets, builders)
    if len(targets) == 1:  # in this thread, so Ctrl-C reaches Build.run directly
        return [make_build(targets[0], chosen[targets[0].name]).run()]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def one(target: Target):
        try:
            return make_build(target, chosen[target.name]).run()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others
            with lock:
                errors.append(exc)
            return None

    pool = ThreadPoolExecutor(max_workers=len(targets))
    try:
        summaries = list(pool.map(one, targets))
    except KeyboardInterrupt:  # arrives in this thread, not in the builds': stop their steps
        for executor in chosen.values():
            if hasattr(executor, "cancel"):
                executor.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
    if errors:
        raise errors[0]
    return summaries

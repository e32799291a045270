"""Start-up milestones of `apaf run`: where the seconds before "reachable" go.

`mark("tor-launched")` logs the milestone (debug level, `apaf run -v`) and, when
$APAF_TIMELINE names a file, appends `<name> <seconds>` to it, the seconds being
`time.monotonic()`: CLOCK_MONOTONIC on Linux, one clock for every process, so
`invoke bench --only runtime` lines the runtime's milestones up with its own start and
its first GET. Costs nothing measurable when the variable is unset.
"""
from __future__ import annotations

import logging
import os
import time

log = logging.getLogger("apaf.timeline")
ENV_VAR = "APAF_TIMELINE"


def mark(name: str) -> None:
    now = time.monotonic()
    log.debug("milestone %s", name)
    path = os.environ.get(ENV_VAR)
    if path:
        with open(path, "a") as f:
            f.write(f"{name} {now:.6f}\n")


def read(path) -> dict[str, float]:
    """The first time of each milestone in a timeline file (a later one is a restart's)."""
    marks: dict[str, float] = {}
    try:
        text = open(path).read()
    except FileNotFoundError:
        return marks
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name and name not in marks:
            marks[name] = float(value)
    return marks

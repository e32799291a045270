"""Restart policy shared by the tor and app supervisors: the supervise loop, back-off, cancelling.

A child that ran longer than STABLE_AFTER seconds before crashing counts as a first crash
again, so one crash a day never escalates to the 30 s delay.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from apaf.errors import ApafError

log = logging.getLogger("apaf.restart")

BACKOFF = (0.5, 1, 2, 5, 10, 30)
STABLE_AFTER = 60.0


class Backoff:
    def __init__(self) -> None:
        self.crashes = 0

    def after_crash(self, ran_for: float) -> float:
        """Seconds to wait before restarting a child that crashed after `ran_for` seconds."""
        self.crashes = 1 if ran_for > STABLE_AFTER else self.crashes + 1
        return BACKOFF[min(self.crashes - 1, len(BACKOFF) - 1)]


async def cancel_task(task: asyncio.Task | None) -> None:
    """Cancel `task` and wait until it is done (None is fine)."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def supervise(name: str, process: Callable[[], asyncio.subprocess.Process],
                    stopping: Callable[[], bool], on_exit: Callable[[int], Awaitable[None]],
                    relaunch: Callable[[], Awaitable[None]]) -> None:
    """Wait for `process()` to exit; unless `stopping()`, await `on_exit(code)`, then
    `relaunch()` after a back-off delay, again and again until it succeeds. Run it as a task
    and cancel it (cancel_task) to stop supervising."""
    backoff = Backoff()
    while not stopping():
        started = time.monotonic()
        code = await process().wait()
        if stopping():
            return
        log.warning("%s exited (code %s); restarting", name, code)
        await on_exit(code)
        delay = backoff.after_crash(time.monotonic() - started)
        while not stopping():
            await asyncio.sleep(delay)
            try:
                await relaunch()
                break
            except ApafError as err:
                log.warning("%s did not restart: %s", name, err)
                delay = backoff.after_crash(0)

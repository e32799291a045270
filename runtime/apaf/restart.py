"""Restart policy shared by the tor and app supervisors: back-off after crashes, task cancelling.

A child that ran longer than STABLE_AFTER seconds before crashing counts as a first crash
again, so one crash a day never escalates to the 30 s delay.
"""
from __future__ import annotations

import asyncio

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

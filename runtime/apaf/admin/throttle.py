"""Login throttling: at most ``LIMIT`` wrong passwords per sliding ``WINDOW`` seconds.

The admin UI has one user and every client is 127.0.0.1, so the count is global,
not per address.  Once the limit is reached, further attempts are refused without
checking the password until the oldest failure leaves the window.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque

LIMIT = 10
WINDOW = 60.0


class LoginThrottle:
    def __init__(self, limit: int = LIMIT, window: float = WINDOW, clock=time.monotonic):
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: deque[float] = deque()
        # Held across "may I try? / check / count" so concurrent attempts cannot
        # all pass the limit before any failure is counted.
        self.lock = asyncio.Lock()

    def _prune(self) -> None:
        now = self._clock()
        while self._failures and now - self._failures[0] >= self.window:
            self._failures.popleft()

    def retry_after(self) -> int:
        """Seconds until another attempt is allowed; 0 when one is allowed now."""
        self._prune()
        if len(self._failures) < self.limit:
            return 0
        return max(1, int(self.window - (self._clock() - self._failures[0]) + 0.999))

    def failed(self) -> None:
        self._failures.append(self._clock())

    def succeeded(self) -> None:
        self._failures.clear()

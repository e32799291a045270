"""The static-site server's shared clock: one HTTP date per second, one deadline sweeper."""
import asyncio
import time

from apaf.staticsite.files import http_date


class Clock:
    """Server-wide state: the current second and its HTTP date (recomputed once per
    second), and the open connections, whose deadlines one sweeper checks (cheaper
    than a timer handle per request)."""

    SWEEP_SECONDS = 0.5

    def __init__(self):
        self.second = 0
        self.date = b""
        self.connections = set()

    async def sweep(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.SWEEP_SECONDS)
            now = loop.time()
            for conn in [c for c in self.connections if c.deadline and c.deadline <= now]:
                conn.deadline = None
                conn._timeout()

    def now(self):
        t = int(time.time())
        if t != self.second:
            self.second = t
            self.date = http_date(t).encode()
        return t

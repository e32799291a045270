"""Login throttling that slows a password guesser without ever locking the owner out.

Every client is the same loopback address, so the state is global, and a global
lock-out would let any local process keep the owner out.  Instead:

* Wrong passwords fill a leaky bucket (``level`` +1 per failure, -1 per ``leak``
  seconds).  Past ``free`` failures, the next password check waits
  ``base * 2**(level - free - 1)`` seconds (at most ``cap``) after the last failure;
  until then attempts are answered 429 without checking the password.  A sustained
  guesser thus gets about one guess per ``max(leak, cap)`` seconds, each costing a
  scrypt check, and a success (the owner's) never empties the bucket.
* The owner's way past the delay: when the delay engages, the runtime prints a
  one-time *owner link* in its terminal (``announce``), which a local process
  cannot read; after the owner used it, the next engagement prints a new one.  Opening it marks that browser session as exempt: its checks skip
  the global delay but have their own budget (``SESSION_TRIES``), so the link is
  no brute-force oracle either.  A logged-in session is exempt the same way (for
  the current-password check of the password change).

Hand-written rather than a rate-limit library: the owner exemption and the
"success does not reset" rule are the point, and no library models them.
``scale`` multiplies every duration (tests run the timeline at 1/100 speed);
``APAF_ADMIN_THROTTLE_SCALE`` sets it for a real runtime under test.
"""
from __future__ import annotations

import asyncio
import hmac
import os
import secrets
import time
from typing import Callable

FREE = 5             # typos: this many failures cost no delay
BASE = 2.0           # first delay, doubling per further failure
CAP = 600.0          # longest delay between two checks
LEAK = 600.0         # one failure forgotten per this many seconds
SESSION_TRIES = 5    # wrong passwords an exempt session may send before it loses exemption
SCALE_ENV = "APAF_ADMIN_THROTTLE_SCALE"


def scale_from_env() -> float:
    """The time scale from ``APAF_ADMIN_THROTTLE_SCALE`` (1 when unset)."""
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
        if not 0 < value <= 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"{SCALE_ENV}={raw!r}: expected a number in (0, 1] (a test's "
                         f"speed-up of the login delays); unset it for normal use") from None
    return value


class LoginThrottle:
    def __init__(self, *, scale: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 announce: Callable[[str], None] | None = None):
        self.base, self.cap, self.leak = BASE * scale, CAP * scale, LEAK * scale
        self._clock = clock
        self._announce = announce
        self._level = 0.0
        self._level_at = clock()
        self._last_failure = float("-inf")
        self._owner_token: str | None = None
        # Held across "may I try? / check / count" so concurrent attempts cannot
        # all pass before any failure is counted.
        self.lock = asyncio.Lock()

    def level(self) -> float:
        """Failures not yet forgotten (leaks continuously)."""
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._level_at) / self.leak)
        self._level_at = now
        return self._level

    def delay(self) -> float:
        """The wait imposed after the latest failure at the current level."""
        excess = self.level() - FREE
        if excess <= 0:
            return 0.0
        return min(self.cap, self.base * 2 ** (excess - 1))

    def retry_after(self) -> int:
        """Whole seconds until a non-exempt check is allowed; 0 when allowed now."""
        left = self._last_failure + self.delay() - self._clock()
        return 0 if left <= 0 else max(1, int(left + 0.999))

    def failed(self) -> None:
        self.level()
        self._level += 1
        self._last_failure = self._clock()
        # One owner link outstanding at a time: a guesser cannot use one up (it does
        # not know it), so a new one is printed only after the owner used the last.
        if self.delay() > 0 and self._owner_token is None:
            self._owner_token = secrets.token_urlsafe(32)
            if self._announce is not None:
                self._announce(self._owner_token)

    def owner_token_valid(self, token: str) -> bool:
        """True (once) for the outstanding owner link's token."""
        if self._owner_token is None or not hmac.compare_digest(
                token.encode(), self._owner_token.encode()):
            return False
        self._owner_token = None  # one-time: the next engagement prints a new one
        return True

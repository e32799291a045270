"""Admin login benchmark: what a password guess costs, and how many the throttle allows.

Prints (figures, no pass/fail):
  scrypt    one password check (the stored hash's parameters), median of ROUNDS
  HTTP      a checked wrong password and a throttled (429, unchecked) attempt against
            the real admin server (``apaf.admin.serve`` on a test double, over loopback)
  per day   password checks a guesser gets in a simulated 24 h under the default
            throttle, for a few guessing paces (the throttle's own clock, no waiting)
Run: `ci/farm bench --only admin` (about 10 s).
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import aiohttp  # noqa: E402

from apaf.admin import password as pw  # noqa: E402
from apaf.admin import serve  # noqa: E402
from apaf.admin.throttle import LoginThrottle  # noqa: E402
from fixtures.admin_ui import RuntimeControlDouble  # noqa: E402

ROUNDS = 9


def scrypt_ms() -> float:
    stored = pw.hash_password("the owner's password")
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        pw.verify("a guess", stored)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def checks_per_day(pace: float) -> int:
    """Checks a guesser trying every ``pace`` seconds (or as soon as allowed) gets in 24 h."""
    now = [0.0]
    t = LoginThrottle(clock=lambda: now[0])
    checks = 0
    while now[0] < 24 * 3600:
        if t.retry_after() == 0:
            t.failed()
            checks += 1
        now[0] += max(pace, 0.05 if t.retry_after() == 0 else t.retry_after())
    return checks


async def http_ms() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = await serve(RuntimeControlDouble(), Path(tmp))
        try:
            host = server.url.split("/")[2]
            base = server.listen_url.rstrip("/")
            headers = {"Host": host, "Origin": f"http://{host}"}
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as c:
                async with c.get(f"{base}/login", headers=headers) as r:
                    csrf = (await r.text()).split('name="csrf" value="', 1)[1].split('"', 1)[0]
                checked, refused = [], []
                for n in range(40):
                    t0 = time.perf_counter()
                    async with c.post(f"{base}/login", headers=headers,
                                      data={"csrf": csrf, "password": f"guess {n}"}) as r:
                        await r.read()
                    (checked if r.status == 403 else refused).append(
                        (time.perf_counter() - t0) * 1000)
            return statistics.median(checked), statistics.median(refused)
        finally:
            await server.close()


def main() -> None:
    print(f"scrypt check (n=2^15, r=8, p=1): {scrypt_ms():.1f} ms median of {ROUNDS}")
    checked, refused = asyncio.run(http_ms())
    print(f"admin server over loopback: wrong password checked {checked:.1f} ms, "
          f"throttled attempt refused {refused:.1f} ms (medians)")
    for label, pace in [("as fast as allowed", 0.0), ("one try a minute", 60.0),
                        ("one try every 10 minutes", 600.0)]:
        print(f"password checks in 24 h, guesser {label}: {checks_per_day(pace)}")


if __name__ == "__main__":
    main()

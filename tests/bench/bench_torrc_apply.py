"""Tor settings editor benchmark: what one edit costs, checked and applied to a real tor.

Prints (figures, no pass/fail), medians of ROUNDS:
  policy      apaf.tor.policy.check on a typical edit and on 64 KiB of lines (the form's cap)
  refused     Runtime.apply_torrc_extra of a refused line (policy only; tor never sees it)
  verify      `tor --verify-config` of the full torrc (a tor process per edit)
  apply       the whole accepted edit: policy, verify, LOADCONF, read-back, save
  10 at once  ten concurrent accepted edits, serialised by the runtime's lock (total)
The runtime's tor runs with `DisableNetwork 1` (no traffic leaves the machine; the editor
itself refuses that option, the runtime's own join lines may set it).
Run: `ci/farm bench --only torrc` (about 20 s).
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

from apaf.errors import TorrcRejected  # noqa: E402
from apaf.runtime import Runtime  # noqa: E402
from apaf.tor import policy  # noqa: E402
from fixtures.runtime import ENVECHO  # noqa: E402

ROUNDS = 9
EDIT = ("UseBridges 0\nBridge 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567\n"
        "ConnectionPadding 1\nBandwidthRate 2 MB\nMaxCircuitDirtiness {n}\n")


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:8.1f} ms"


async def timed(coro_fn) -> float:
    t0 = time.perf_counter()
    await coro_fn()
    return time.perf_counter() - t0


async def main() -> None:
    big = "# padding comment line to fill the form\n" * (64 * 1024 // 41)
    check_small = [timed_sync(lambda: policy.check(EDIT.format(n=600))) for _ in range(ROUNDS)]
    check_big = [timed_sync(lambda: policy.check(big)) for _ in range(ROUNDS)]
    with tempfile.TemporaryDirectory(prefix="apaf-bench-torrc-") as tmp:
        rt = Runtime([ENVECHO], Path(tmp) / "data", join_lines=["DisableNetwork 1"], admin=False)
        await rt.start()
        try:
            refused, verify, apply = [], [], []
            for i in range(ROUNDS):
                async def refuse():
                    try:
                        await rt.apply_torrc_extra("SocksPort 0.0.0.0:9050\n")
                    except TorrcRejected:
                        pass
                refused.append(await timed(refuse))
                verify.append(await timed(lambda: rt.tor.verify(EDIT.format(n=700 + i))))
                apply.append(await timed(lambda: rt.apply_torrc_extra(EDIT.format(n=800 + i))))
            burst = await timed(lambda: asyncio.gather(
                *(rt.apply_torrc_extra(EDIT.format(n=900 + k)) for k in range(10))))
        finally:
            await rt.stop()
    print("torrc editor (medians of %d):" % ROUNDS)
    print(f"  policy, 5-line edit      {ms(check_small)}")
    print(f"  policy, 64 KiB of lines  {ms(check_big)}")
    print(f"  refused edit             {ms(refused)}")
    print(f"  tor --verify-config      {ms(verify)}")
    print(f"  accepted edit, in all    {ms(apply)}")
    print(f"  10 concurrent edits      {burst * 1000:8.1f} ms total")


def timed_sync(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    asyncio.run(main())

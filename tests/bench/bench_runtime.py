"""Runtime benchmark on a private Tor network: start -> onion reachable, and the runtime's memory.

Prints (figures, no pass/fail), each the median of ROUNDS runs:
  cold     `apaf run` with a fresh data dir (tor started by the runtime, new key)
  restart  `apaf run` again on the same data dir (tor's cached consensus, persisted key)
  warm     tor already running: Runtime.start_service() (ADD_ONION with the persisted key)
  raw tor  tor with HiddenServiceDir + a plain HTTP server on the same directory, fresh / restarted
  RSS      of the `apaf run` process alone (tor and app processes are separate), admin UI on
"Reachable" = the network's client GETs the page through Tor. Before each run the client
forgets cached onion descriptors (NEWNYM), and the first GET waits for the descriptor upload
(HS_DESC UPLOADED), so no run is penalised by an early failed lookup. Aims: cold <= 3.5 s,
warm <= 2.5 s, RSS <= 60 MB. Run: `ci/farm bench --only runtime` (~3 min with the network).
"""
from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from stem.control import Controller, EventType  # noqa: E402

from apaf.onion import UploadRound  # noqa: E402
from apaf.runtime import Runtime  # noqa: E402
from apaf.testnet import TestNetwork  # noqa: E402
from apaf.tor import find_tor  # noqa: E402
from apaf.apps.process import free_port  # noqa: E402
from fixtures.runtime import aget_via_tor, apaf_run, forget_onions, get_via_tor  # noqa: E402

ROUNDS = 3
SITE = TESTS.parent / "examples" / "static-site"
PUBLIC = SITE / "public"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def runtime_once(net, data: Path) -> tuple[float, float]:
    """Seconds from `apaf run` to a GET through the network's client, and the runtime's RSS."""
    forget_onions(net)
    t0 = time.monotonic()
    with apaf_run(data, [SITE], net) as rt:  # returns once the descriptor is uploaded
        status, _ = get_via_tor(net.socks, f"http://{rt.onion('static-site')}/", timeout=90)
        elapsed = time.monotonic() - t0
        assert status == 200
        time.sleep(1)  # let the admin UI and the status writes settle before measuring memory
        return elapsed, rss_mb(rt.proc.pid)


def raw_tor_once(net, workdir: Path) -> float:
    """Seconds from launching tor (HiddenServiceDir) to a GET through the network's client."""
    forget_onions(net)
    http_port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", str(PUBLIC), str(http_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workdir.mkdir(mode=0o700, exist_ok=True)
    hs_dir = workdir / "hs"
    port_file = workdir / "control-port"
    port_file.unlink(missing_ok=True)
    torrc = workdir / "torrc"
    torrc.write_text("\n".join([
        f"DataDirectory {workdir / 'data'}", "SocksPort 0", "ControlPort 127.0.0.1:auto",
        f"ControlPortWriteToFile {port_file}", "CookieAuthentication 1",
        f"Log notice file {workdir / 'notice.log'}",
        f"HiddenServiceDir {hs_dir}", f"HiddenServicePort 80 127.0.0.1:{http_port}",
        *net.join_torrc_lines()]) + "\n")
    uploaded = threading.Event()
    upload_round = UploadRound()  # the same "published" rule as the runtime's
    t0 = time.monotonic()
    tor = subprocess.Popen([str(find_tor()), "-f", str(torrc)], stdout=subprocess.DEVNULL)
    try:
        while not port_file.exists():
            time.sleep(0.02)
        port = int(port_file.read_text().strip().rsplit(":", 1)[1])
        with Controller.from_port(port=port) as ctl:
            ctl.authenticate()
            ctl.add_event_listener(
                lambda e: upload_round.feed(e.action, e.directory_fingerprint) and uploaded.set(),
                EventType.HS_DESC)
            uploaded.wait(90)
            onion = (hs_dir / "hostname").read_text().strip()
            status, _ = get_via_tor(net.socks, f"http://{onion}/", timeout=90)
            assert status == 200
            return time.monotonic() - t0
    finally:
        tor.terminate()
        tor.wait()
        server.terminate()
        server.wait()


async def warm_rounds(net, data: Path) -> list[float]:
    """Tor running and bootstrapped: time start_service() -> GET through the client."""
    rt = Runtime([SITE], data, join_lines=net.join_torrc_lines(), admin=False)
    await rt.start()
    try:
        await rt.tor.wait_bootstrapped(60)
        onion = (await rt.status())["apps"][0]["onion"]
        times = []
        for _ in range(ROUNDS):
            await rt.stop_service()
            await asyncio.to_thread(forget_onions, net)
            t0 = time.monotonic()
            try:
                await rt.start_service()
                await rt.onions.wait_published("static-site", 90)
                status, _ = await aget_via_tor(net.socks, f"http://{onion}/", timeout=90)
                assert status == 200
                times.append(time.monotonic() - t0)
            except (AssertionError, OSError, asyncio.TimeoutError) as err:
                print(f"  (a warm run failed: {str(err)[:200]})", file=sys.stderr)
                times.append(None)
        return times
    finally:
        await rt.stop()


def attempt(fn, *args):
    """Run one measurement; a failed run is reported (None), not fatal to the benchmark."""
    try:
        return fn(*args)
    except (AssertionError, OSError, TimeoutError) as err:
        print(f"  (a run of {fn.__name__} failed: {str(err)[:200]})", file=sys.stderr)
        return None


def median(xs: list) -> float:
    ok = [x for x in xs if x is not None]
    return statistics.median(ok) if ok else float("nan")


def fmt(xs: list) -> str:
    runs = ", ".join("failed" if x is None else f"{x:.2f}" for x in xs)
    return f"{median(xs):5.2f} s  (runs: {runs})"


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="apaf-bench-"))
    t = time.monotonic()
    net = TestNetwork(root / "net", authorities=3, relays=4).start(timeout=180)
    print(f"private network up in {time.monotonic() - t:.1f} s (3 authorities, 4 relays, client)")
    try:
        cold, restart, rss = [], [], []
        for i in range(ROUNDS):
            data = root / f"rt{i}"
            cold.append((attempt(runtime_once, net, data) or (None, None))[0])
            secs, mb = attempt(runtime_once, net, data) or (None, None)
            restart.append(secs)
            rss.append(mb)
        warm = asyncio.run(warm_rounds(net, root / "warm"))
        raw_cold, raw_restart = [], []
        for i in range(ROUNDS):
            raw_cold.append(attempt(raw_tor_once, net, root / f"raw{i}"))
            raw_restart.append(attempt(raw_tor_once, net, root / f"raw{i}"))
    finally:
        net.stop()
        shutil.rmtree(root, ignore_errors=True)
    m = median
    print("start -> onion reachable through the private network (median of %d)" % ROUNDS)
    print(f"  apaf cold     {fmt(cold)}   aim <= 3.5 s")
    print(f"  apaf restart  {fmt(restart)}")
    print(f"  apaf warm     {fmt(warm)}   aim <= 2.5 s")
    print(f"  raw tor cold  {fmt(raw_cold)}")
    print(f"  raw tor restart {fmt(raw_restart)}")
    print(f"  ratio apaf/raw: cold {m(cold) / m(raw_cold):.2f}, restart {m(restart) / m(raw_restart):.2f}, "
          f"warm/raw-restart {m(warm) / m(raw_restart):.2f}")
    print(f"runtime RSS without tor (apaf run + admin UI): {m(rss):.1f} MB "
          f"(max {max((x for x in rss if x), default=float('nan')):.1f})   aim <= 60 MB")


if __name__ == "__main__":
    main()

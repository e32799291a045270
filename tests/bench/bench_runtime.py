"""Runtime benchmark on a private Tor network: start -> first GET through Tor, phase by phase,
beside OnionShare and raw tor on the same network, and the memory of every process.

Contenders, each run N times (`--runs N`, default 10; `invoke bench --only runtime --runs N`):
  apaf cold     `apaf run examples/static-site examples/chat`, fresh data dir (new tor state, new keys)
  apaf restart  the same again on that data dir (tor's cached directory, persisted keys); the
                client still holds the descriptor it fetched in the cold run, as a returning
                visitor would: it tries the dead introduction points first (tor's client does
                that, a Tor Browser alike; the runtime's own part is the next row's)
  restart, new client   once more, after the client forgot every descriptor (NEWNYM): the
                service's own restart time, as a first-time visitor sees it
  OnionShare    `onionshare-cli --website --public` (PyPI, pinned with hashes in
                onionshare-requirements.txt, installed by this bench in build/bench/onionshare-venv),
                launching its own tor as it does for users; a `tor` first on its PATH adds the
                network's join options on tor's command line
  raw tor       tor with HiddenServiceDir + `python -m http.server`, fresh directories
"First GET" = the network's client GETs the static page through Tor. Each contender's GET starts
once its own signal says the descriptor is uploaded (apaf: `--wait-published`; OnionShare: its
printed address, after stem's await_publication; raw tor: HS_DESC UPLOADED), so no run is
penalised by asking the HSDirs too early. The apaf phases come from the runtime's own
milestones ($APAF_TIMELINE, apaf/timeline.py), on the same clock as the bench.
Memory is read once each contender has answered its GETs, per process: RSS (VmRSS, what the
aims are set on), PSS (shared pages divided among the processes sharing them) and USS (pages
only this process holds: what stopping it gives back). The python binary's and shared
libraries' pages are in every python process's RSS, which is why RSS sums to more than the
machine spends. Run: `ci/farm bench --only runtime` (~6 min at 10 runs).
`--keep DIR` works in DIR and leaves it there, with an info-level tor log (millisecond times)
of the network's client (DIR/tor-logs/client.log) and of every apaf run
(DIR/tor-logs/apaf<round>-<case>.log): what a failed or slow round needs to be understood
(both sides of a rendezvous).
The client's side of each apaf GET comes from its control events (ClientView): when it asks
the HSDirs for the descriptor and when it has it. A returning visitor asks only once every
introduction point of its cached descriptor has failed, so "get-start -> client-asks-hsdir" is
what the cached descriptor costs. "stale ACKs" counts rendezvous the client waited for in vain
after an introduction point of the previous service acknowledged its INTRODUCE1 (that relay
still held the dead service's circuit): each costs 3 x its circuit build timeout + 1 s.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from pathlib import Path
from types import SimpleNamespace

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

from stem.control import Controller, EventType  # noqa: E402

from apaf.apps.process import free_port  # noqa: E402
from apaf.onion import UploadRound  # noqa: E402
from apaf.testnet import TestNetwork, load  # noqa: E402
from apaf.testnet.state import STATE_FILE  # noqa: E402
from apaf.timeline import ENV_VAR, read  # noqa: E402
from apaf.tor import find_tor  # noqa: E402
from fixtures.runtime import ApafProcess, descendants, forget_onions, get_via_tor  # noqa: E402

SITE = ROOT / "examples" / "static-site"
CHAT = ROOT / "examples" / "chat"
PUBLIC = SITE / "public"
OS_REQUIREMENTS = Path(__file__).with_name("onionshare-requirements.txt")
OS_VENV = ROOT / "build" / "bench" / "onionshare-venv"
ONION_URL = re.compile(r"http://[a-z2-7]{56}\.onion")
AIMS = {"cold": "<= 3.5 s median, <= 5 s worst", "restart": "<= cold",
        "admin": "<= 1 s", "runtime": "<= 35 MB", "app": "<= 25 MB"}
# The apaf milestones in the order they should happen, as printed.
PHASES = ["imports-done", "tor-launched", "tor-control", "onion-added static-site",
          "admin-imported", "admin-ready", "app-serving static-site", "bootstrapped", "first-uploaded static-site",
          "uploaded static-site", "get-start", "client-asks-hsdir", "client-has-descriptor", "get"]


def memory_mb(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, USS) in MB, from /proc/PID/smaps_rollup (its Rss is VmRSS)."""
    kb = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, value = line.split(":", 1)
            kb[key] = int(value.split()[0])
    except (OSError, ValueError):
        return (float("nan"),) * 3
    return kb["Rss"] / 1024, kb["Pss"] / 1024, (kb["Private_Clean"] + kb["Private_Dirty"]) / 1024


def role(pid: int) -> str:
    """What a process below a contender is: tor, an apaf app (by name) or python."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    if comm == "tor":
        return "tor"
    app = next((e[len(b"APAF_APP_NAME="):].decode() for e in env if e.startswith(b"APAF_APP_NAME=")), None)
    return f"app {app}" if app else comm


def memory(pid: int, top: str) -> dict[str, tuple[float, float, float]]:
    found = {top: memory_mb(pid)}
    for kid in descendants(pid):
        found[role(kid)] = memory_mb(kid)
    return found


# -- apaf --------------------------------------------------------------------------------
def logged_testnet(net, log: Path) -> Path:
    """A copy of the network's state file whose join lines add an info log at `log` (the
    runtime's tor logs only notices, into the runtime), for `APAF_TESTNET_DIR`."""
    folder = log.with_suffix(".testnet")
    folder.mkdir(parents=True, exist_ok=True)
    state = json.loads((Path(net.workdir) / STATE_FILE).read_text())
    state["torrc"] += [f"Log info file {log}", "SafeLogging 0", "LogTimeGranularity 1"]
    (folder / STATE_FILE).write_text(json.dumps(state))
    return folder


def log_client(net, log: Path) -> None:
    """Add an info-level log file to the network's client (it keeps its notice log)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with Controller.from_port(port=load(net.workdir).client().control_port) as ctl:
        ctl.authenticate()
        ctl.set_options({"Log": [*ctl.get_conf("Log", multiple=True), f"info file {log}"],
                         "LogTimeGranularity": "1"})


class ClientView:
    """The network client's side of the GETs of one onion, from its control events (HS_DESC,
    CIRC, CIRC_MINOR): when it asks the HSDirs for the descriptor, when it has it, and how many
    rendezvous it waited for after an INTRODUCE_ACK and never got (stale ACKs)."""

    def __init__(self, net) -> None:
        self.ctl = Controller.from_port(port=load(net.workdir).client().control_port)
        self.ctl.authenticate()
        self.lock = threading.Lock()
        self.watch(None)
        self.ctl.add_event_listener(self._desc, EventType.HS_DESC)
        self.ctl.add_event_listener(self._circ, EventType.CIRC, EventType.CIRC_MINOR)

    def watch(self, onion: str | None) -> None:
        """From now on, record what the client does for `onion` (without ".onion")."""
        with self.lock:
            self.onion, self.at, self.waiting, self.joined = onion, {}, set(), set()

    def _desc(self, event) -> None:
        name = {"REQUESTED": "client-asks-hsdir", "RECEIVED": "client-has-descriptor"}.get(event.action)
        with self.lock:
            if name and event.address == self.onion:
                self.at.setdefault(name, time.monotonic())

    def _circ(self, event) -> None:
        with self.lock:
            if getattr(event, "rend_query", None) != self.onion:
                return
            if event.hs_state == "HSCR_ESTABLISHED_WAITING":  # INTRODUCE_ACK success came
                self.waiting.add(event.id)
            elif event.hs_state == "HSCR_JOINED":
                self.joined.add(event.id)

    def result(self) -> tuple[dict[str, float], int]:
        """(milestone -> monotonic time, stale ACKs) since watch()."""
        with self.lock:
            return dict(self.at), len(self.waiting - self.joined)

    def close(self) -> None:
        self.ctl.close()


def apaf_once(net, data: Path, log: Path | None = None, client: ClientView | None = None) -> dict:
    """One `apaf run`: seconds from launch to each milestone and to the first GET; RSS.
    With `log`, its tor also writes an info-level log there; with `client`, the network client's
    side of the first GET is in the milestones too."""
    timeline = data.with_suffix(".timeline")
    timeline.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    testnet = logged_testnet(net, log) if log else net.workdir
    env.update({"APAF_TESTNET_DIR": str(testnet), "PYTHONUNBUFFERED": "1", ENV_VAR: str(timeline)})
    cmd = [sys.executable, "-m", "apaf.cli", "run", "--testnet", "--wait-published", "--no-browser",
           "--data-dir", str(data), str(SITE), str(CHAT)]
    t0 = time.monotonic()
    rt = ApafProcess(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=env), data)
    try:
        onion = rt.wait_line("static-site: http://", 90).split("http://", 1)[1].rstrip("/")
        if client:
            client.watch(onion.removesuffix(".onion"))
        get_start = time.monotonic()
        try:
            status, _ = get_via_tor(net.socks, f"http://{onion}/", timeout=90)
        except AssertionError as err:  # what the client did is what a failed round needs said
            seen, stale = client.result() if client else ({}, None)
            raise AssertionError(f"{err}; the client waited on {stale} stale INTRODUCE_ACKs and "
                                 f"{'asked the HSDirs' if seen else 'never asked the HSDirs'}") from None
        got = time.monotonic() - t0
        seen, stale = client.result() if client else ({}, None)
        assert status == 200, status
        rt.wait_line("data: ", 30)
        chat = rt.onion("chat")
        assert get_via_tor(net.socks, f"http://{chat}/", timeout=90)[0] == 200
        time.sleep(1)  # let the status writes settle before measuring memory
        mem = memory(rt.proc.pid, "runtime")
    finally:
        rt.close()
    phases = {name: at - t0 for name, at in read(timeline).items()}
    phases.update({name: at - t0 for name, at in seen.items()}, **{"get-start": get_start - t0})
    return {"total": got, "phases": {**phases, "get": got}, "rss": mem, "stale_acks": stale}


# -- OnionShare ----------------------------------------------------------------------------
def onionshare_venv() -> Path:
    """onionshare-cli in its own venv (its pins would clash with the runtime's), by hash."""
    exe = OS_VENV / "bin" / "onionshare-cli"
    stamp = OS_VENV / "requirements.txt"
    if exe.exists() and stamp.exists() and stamp.read_text() == OS_REQUIREMENTS.read_text():
        return exe
    shutil.rmtree(OS_VENV, ignore_errors=True)
    venv.create(OS_VENV, with_pip=True)
    subprocess.run([str(OS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--require-hashes", "-r", str(OS_REQUIREMENTS)], check=True)
    shutil.copy(OS_REQUIREMENTS, stamp)
    return exe


def tor_wrapper(net, folder: Path) -> Path:
    """A `tor` that is the real one plus the network's join options (set at launch only)."""
    args = []
    for line in net.join_torrc_lines():
        key, value = line.split(" ", 1)
        args += [f"--{key}", value]
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "tor"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(str(find_tor()))} "$@" {shlex.join(args)}\n')
    script.chmod(0o755)
    return folder


def onionshare_once(net, exe: Path, wrapper: Path, home: Path) -> dict:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "PATH": f"{wrapper}:{os.environ['PATH']}"}
    t0 = time.monotonic()
    proc = subprocess.Popen([str(exe), "--website", "--public", str(PUBLIC / "index.html")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = None
        for line in proc.stdout:
            match = ONION_URL.search(line)
            if match:
                url = match.group(0)
                break
        assert url, f"onionshare-cli printed no address (exit {proc.wait()})"
        uploaded = time.monotonic() - t0
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
        status, _ = get_via_tor(net.socks, url + "/", timeout=90)
        got = time.monotonic() - t0
        assert status == 200, status
        time.sleep(1)
        mem = memory(proc.pid, "onionshare")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"total": got, "phases": {"uploaded": uploaded, "get": got}, "rss": mem}


# -- raw tor -------------------------------------------------------------------------------
def raw_tor_once(net, workdir: Path) -> dict:
    """tor with HiddenServiceDir (fresh) + http.server; launch -> first GET."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(mode=0o700, parents=True)
    http_port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", str(PUBLIC), str(http_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hs_dir, port_file = workdir / "hs", workdir / "control-port"
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
            deadline = time.monotonic() + 90
            # done() polled too: tor never answers an upload whose circuit failed (UploadRound)
            while not (uploaded.wait(0.2) or upload_round.done()):
                assert time.monotonic() < deadline, "no descriptor upload in 90 s"
            up = time.monotonic() - t0
            onion = (hs_dir / "hostname").read_text().strip()
            status, _ = get_via_tor(net.socks, f"http://{onion}/", timeout=90)
            got = time.monotonic() - t0
            assert status == 200, status
            return {"total": got, "phases": {"uploaded": up, "get": got},
                    "rss": {"tor": memory_mb(tor.pid), "http.server": memory_mb(server.pid)}}
    finally:
        for p in (tor, server):
            p.terminate()
            p.wait()


# -- report --------------------------------------------------------------------------------
def attempt(fn, *args):
    """Run one measurement; a failed run is reported (None), not fatal to the benchmark."""
    try:
        return fn(*args)
    except (AssertionError, OSError, TimeoutError, subprocess.SubprocessError) as err:
        print(f"  (a run of {fn.__name__} failed: {str(err)[:300]})", file=sys.stderr)
        return None


def spread(xs: list) -> str:
    ok = [x for x in xs if x is not None]
    if not ok:
        return "  all runs failed"
    failed = f", {len(xs) - len(ok)} failed" if len(ok) < len(xs) else ""
    return f"{statistics.median(ok):6.2f} s median, {max(ok):6.2f} s worst, {min(ok):5.2f} best ({len(ok)} runs{failed})"


def report(results: dict[str, list]) -> None:
    print(f"\nstart -> first GET through the private network ({len(results['apaf cold'])} runs each)")
    for name, runs in results.items():
        aim = AIMS.get(name.removeprefix("apaf ").split(",")[0], "")
        if name == "apaf restart":  # the service's part is "restart, new client"; the rest is tor's client
            aim += " (incl. the visitor's tor trying old introduction points: see below)"
        print(f"  {name:<20}{spread([r and r['total'] for r in runs])}   {('aim ' + aim) if aim else ''}")
    for name in results:
        runs = [r for r in results[name] if r]
        if not runs:
            continue
        print(f"\n{name}: seconds from launch to each milestone (median; worst)")
        names = PHASES if "uploaded" not in runs[0]["phases"] else ["uploaded", "get"]
        for phase in names:
            xs = [r["phases"][phase] for r in runs if phase in r["phases"]]
            if xs:
                aim = f"   aim {AIMS['admin']}" if phase == "admin-ready" else ""
                print(f"  {phase:<28}{statistics.median(xs):6.2f}  {max(xs):6.2f}{aim}")
        cached = [r["phases"]["client-asks-hsdir"] - r["phases"]["get-start"] for r in runs
                  if {"client-asks-hsdir", "get-start"} <= r["phases"].keys()]
        if cached:
            print(f"  client: get-start -> asks HSDir, median {statistics.median(cached):.2f} s, worst "
                  f"{max(cached):.2f} (a cached descriptor's dead introduction points tried first)")
        stale = [r["stale_acks"] for r in runs if r.get("stale_acks") is not None]
        if stale:
            print(f"  stale INTRODUCE_ACKs (rendezvous waited for in vain): {sum(stale)} in "
                  f"{sum(1 for x in stale if x)} of {len(stale)} runs")
        print(f"  memory per process, MB: RSS median; worst (the aims are RSS), PSS, USS median")
        for proc in dict.fromkeys(k for r in runs for k in r["rss"]):
            rss, pss, uss = zip(*(r["rss"][proc] for r in runs if proc in r["rss"]))
            aim = AIMS["runtime"] if proc == "runtime" else AIMS["app"] if proc.startswith("app ") else ""
            print(f"  {proc:<28}{statistics.median(rss):6.1f}  {max(rss):6.1f}   PSS "
                  f"{statistics.median(pss):5.1f}  USS {statistics.median(uss):5.1f}"
                  f"{('   aim ' + aim) if aim else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("APAF_BENCH_RUNS", 10)),
                        help="runs per contender (default 10, or $APAF_BENCH_RUNS)")
    parser.add_argument("--testnet", metavar="DIR", type=Path,
                        help="use the running network of `invoke testnet.up --dir DIR` instead of a new one")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="work in DIR and keep it, with info-level tor logs of the client and of "
                             "every apaf run in DIR/tor-logs")
    opts = parser.parse_args()
    runs = opts.runs
    exe = onionshare_venv()
    if opts.keep:
        root = opts.keep.resolve()
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="apaf-bench-"))
    logs = root / "tor-logs" if opts.keep else None
    t = time.monotonic()
    if opts.testnet:
        info = load(opts.testnet)
        net = SimpleNamespace(workdir=Path(info.workdir), socks=info.socks, stop=lambda: None,
                              join_torrc_lines=info.join_torrc_lines)
    else:
        net = TestNetwork(root / "net", authorities=3, relays=4).start(timeout=180)
    print(f"private network up in {time.monotonic() - t:.1f} s (3 authorities, 4 relays, client)")
    if logs:
        log_client(net, logs / "client.log")
        print(f"tor logs in {logs}", flush=True)
    client = ClientView(net)
    results = {"apaf cold": [], "apaf restart": [], "restart, new client": [], "OnionShare": [],
               "raw tor": []}
    try:
        wrapper = tor_wrapper(net, root / "wrapped-tor")
        for i in range(runs):
            # Interleaved, so a busy moment of the machine does not land on one contender only.
            data = root / f"apaf{i}"
            results["apaf cold"].append(attempt(apaf_once, net, data, logs and logs / f"apaf{i}-cold.log", client))
            results["apaf restart"].append(
                attempt(apaf_once, net, data, logs and logs / f"apaf{i}-restart.log", client))
            forget_onions(net)
            results["restart, new client"].append(
                attempt(apaf_once, net, data, logs and logs / f"apaf{i}-new-client.log", client))
            results["OnionShare"].append(attempt(onionshare_once, net, exe, wrapper, root / "os-home"))
            results["raw tor"].append(attempt(raw_tor_once, net, root / "raw"))
            print(f"  round {i + 1}/{runs}: " + ", ".join(
                f"{k} {v[-1]['total']:.2f} s" if v[-1] else f"{k} failed" for k, v in results.items()),
                flush=True)
    finally:
        client.close()
        net.stop()
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    report(results)


if __name__ == "__main__":
    main()

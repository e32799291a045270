"""`invoke testnet.*`: a private Tor network on 127.0.0.1 that runs in the background.

    invoke testnet.up [--dir D]          start it (daemonised tors), print how to use/join it
    invoke testnet.status [--dir D] [--json]
    invoke testnet.down [--dir D]

D defaults to $APAF_TESTNET_DIR, else build/testnet. The logic is in `apaf.testnet`.
"""
from __future__ import annotations

import functools
import os
import time

from invoke import Collection, Exit, task

from .common import print_json

# apaf.testnet (stem, cryptography: ~0.4 s) is imported by the tasks that use it, so
# `ci/farm --list` and every other command do not pay for it.
DEFAULT_DIR = os.path.join("build", "testnet")
DIR_HELP = f"the network's work dir (default: $APAF_TESTNET_DIR, else {DEFAULT_DIR})"


def _dir(dir: str) -> str:
    import apaf.testnet
    return os.path.abspath(dir or os.environ.get(apaf.testnet.ENV_VAR) or DEFAULT_DIR)


def _apaf_errors(fn):
    """Turn the runtime's errors (TestnetError, TorNotFound) into invoke's Exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from apaf.errors import ApafError
        try:
            return fn(*args, **kwargs)
        except ApafError as exc:
            raise Exit(f"error: {exc}", code=exc.exit_code) from None

    return wrapper


def _status(workdir: str) -> dict:
    import apaf.testnet
    info = apaf.testnet.load(workdir)
    running = {n.name for n in info.running()}
    return {
        "dir": workdir,
        "bootstrapped": bool(running) and info.bootstrapped(),
        "socks": info.socks,
        "torrc": info.join_torrc_lines(),
        "nodes": [{"name": n.name, "role": n.role, "pid": n.pid, "running": n.name in running,
                   "control_port": n.control_port, **n.ports} for n in info.nodes],
    }


@task(help={
    "dir": DIR_HELP,
    "authorities": "number of directory authorities (default 3)",
    "relays": "number of relays, all exits to 127.0.0.0/8 (default 3; >= 2 for onion services that survive a dead relay)",
    "tor": "tor binary to run (default: $APAF_TOR, else tor on PATH)",
    "timeout": "seconds to wait for the network to bootstrap (default 120)",
})
@_apaf_errors
def up(c, dir="", authorities=3, relays=3, tor="", timeout=120):
    """Start a private Tor network in the background and print its SOCKS port and how to join it."""
    import apaf.testnet
    workdir = _dir(dir)
    try:
        if apaf.testnet.load(workdir).running():
            raise Exit(f"a testnet is already running in {workdir}: `invoke testnet.status --dir {workdir}`, "
                       f"or stop it with `invoke testnet.down --dir {workdir}`", code=1)
    except apaf.testnet.TestnetError:
        pass  # no state file: nothing runs there
    started = time.monotonic()
    net = apaf.testnet.TestNetwork(workdir, tor or None, int(authorities), int(relays), detach=True)
    net.start(timeout=float(timeout))
    print(f"private Tor network up in {time.monotonic() - started:.1f} s: "
          f"{authorities} authorities, {relays} relays, 1 client; work dir {workdir}")
    print(f"SOCKS5 (remote DNS): {net.socks}    e.g. curl --socks5-hostname {net.socks} http://ONION/")
    print(f"run an app on it:    export {apaf.testnet.ENV_VAR}={workdir}; apaf run --testnet APP_DIR")
    print("torrc lines for another tor to join it:")
    for line in net.join_torrc_lines():
        print(f"    {line}")
    print(f"stop it:             invoke testnet.down --dir {workdir}")


@task(help={"dir": DIR_HELP, "json": "print JSON: bootstrapped, socks, torrc (join lines), nodes"})
@_apaf_errors
def status(c, dir="", json=False):
    """Show whether the network is up and bootstrapped, its SOCKS port and its join lines."""
    data = _status(_dir(dir))
    if json:
        print_json(data)
        return
    running = sum(n["running"] for n in data["nodes"])
    print(f"{data['dir']}: {running}/{len(data['nodes'])} tor daemons running, "
          f"{'bootstrapped' if data['bootstrapped'] else 'NOT bootstrapped'}, SOCKS {data['socks']}")
    for node in data["nodes"]:
        print(f"    {node['name']:<8} {node['role']:<10} pid {node['pid']}  {'up' if node['running'] else 'DOWN'}")


@task(help={"dir": DIR_HELP})
@_apaf_errors
def down(c, dir=""):
    """Stop every tor daemon of the network and remove its state file (keys and logs stay)."""
    import apaf.testnet
    info = apaf.testnet.stop(_dir(dir))
    print(f"stopped {len(info.nodes)} tor daemons of the testnet in {info.workdir}")


ns = Collection("testnet", up, status, down)

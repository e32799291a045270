"""The escape battery in the dev tree: a sandboxed app (tests/integration/apps/escapes) under
a real `apaf run` on the private Tor network tries each escape of issue 14; each is refused by
the kernel and named in the app's log, the app keeps running, and its legitimate work (serving
its port, fetching another onion through Tor, its data and temp files) still works.
The same battery runs in the static bundle: tests/e2e/test_static_bundle_sandbox.py."""
import json
import os
import shutil
import sys

import pytest

from apaf.sandbox import landlock
from apaf.sandbox.account import app_uid
from fixtures.escapes import ESCAPES_APP, LOG_PREFIX, app_address, app_ids, check_battery, escape_list, run_battery
from fixtures.runtime import ENVECHO, apaf_run

pytestmark = pytest.mark.skipif(sys.platform != "linux" or landlock.abi() < 4,
                                reason=f"needs Landlock ABI >= 4 (this kernel: {landlock.abi()})")


async def test_escape_battery_refused_logged_and_app_keeps_working(testnet, tmp_path):
    home, data = tmp_path / "home", tmp_path / "data"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    app = shutil.copytree(ESCAPES_APP, tmp_path / "app")  # a failed "write its own code" stays here
    with apaf_run(data, [app, ENVECHO], testnet, env={"HOME": str(home)}) as rt:
        (data / "apps" / "envecho" / "secret.txt").write_text("envecho's secret")
        status = rt.wait_status(lambda s: s["admin"], 30)
        control = (data / "tor" / "control-port").read_text().split("=", 1)[1].strip()
        attempts = escape_list(data=str(data), home=str(home), app_dir=str(app), tmp=str(tmp_path),
                               status=status, control=control, other="envecho",
                               other_address=app_address(rt.proc.pid, "envecho"),
                               own_port=app_address(rt.proc.pid, "escapes")[1], not_listed="/bin/sh",
                               python=sys.executable)
        results, fetched, own = await run_battery(testnet.socks, rt.onion("escapes"), attempts,
                                                  f"http://{rt.onion('envecho')}/")
        check_battery(results, attempts, (data / "run" / "logs" / "escapes.log").read_text())
        assert json.loads(fetched)["APAF_ONION_ADDRESS"] == rt.onion("envecho")
        assert LOG_PREFIX not in (data / "run" / "logs" / "envecho.log").read_text()  # no noise for honest work
        assert own == {"data": "kept\nkept\n", "tmp": "scratch"}
        assert not (data / "apps" / "envecho" / "evil").exists() and not (tmp_path / "evil").exists()
        st = rt.status()
        assert st["sandbox"]["landlock_abi"] == landlock.abi() and st["sandbox"]["network"]
        # What a tor-status app may read is tor's state, not the other apps' .onion addresses.
        shared = json.loads((data / "run" / "app-status" / "status.json").read_text())
        assert set(shared) == {"tor"} and shared["tor"]["running"]
        assert not {rt.onion("envecho"), rt.onion("escapes")} & set(json.dumps(shared).split('"'))
        if os.geteuid() == 0:  # never root: each app under its own uid, which owns its data
            ids = {name: app_ids(rt.proc.pid, name) for name in ("escapes", "envecho")}
            assert ids == {n: (app_uid(n),) * 2 for n in ids} and ids["escapes"] != ids["envecho"], ids
            assert (data / "apps" / "escapes").stat().st_uid == app_uid("escapes")
        esc = next(a for a in st["apps"] if a["name"] == "escapes")
        assert esc["running"]
        assert {p["name"]: (p["granted"], p["enforced"]) for p in esc["privileges"]} == {
            "outbound-tor": (True, True), "tor-status": (False, True), "run-binaries": (False, True)}

"""`apaf run` on the private Tor network: reachable .onion, stable address, tor crash recovery.

Runs the real CLI as a process (tor 0.4.9 joins the session's testnet) with
examples/static-site and `envecho` (a test app answering with its APAF_* environment).
~30-60 s in all once the testnet is up.
"""
import ipaddress
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from apaf.timeline import ENV_VAR
from fixtures.runtime import alive, apaf_run, forget_onions, get_via_tor

STATIC_SITE = Path(__file__).resolve().parents[2] / "examples" / "static-site"
INDEX = (STATIC_SITE / "public" / "index.html").read_bytes()


def test_apps_reachable_through_testnet_with_contract_env_and_stable_addresses(testnet, envecho_app, tmp_path):
    data = tmp_path / "data"
    with apaf_run(data, [STATIC_SITE, envecho_app], testnet, "--no-admin") as rt:
        site = rt.onion("static-site")
        assert get_via_tor(testnet.socks, f"http://{site}/") == (200, INDEX)
        onion = rt.onion("envecho")
        assert onion != site
        assert onion.endswith(".onion") and len(onion) == 62
        status, body = get_via_tor(testnet.socks, f"http://{onion}/")
        env = json.loads(body)
        assert status == 200
        assert env["APAF_ONION_ADDRESS"] == onion and ipaddress.ip_address(env["APAF_BIND_HOST"]).is_loopback
        assert json.loads(env["APAF_SETTINGS"]) == {"greeting": "hello"}
        assert env["APAF_DATA_DIR"] == str(data / "apps" / "envecho") and env["data_dir_mode"] == "0o700"
        assert env["APAF_SOCKS"] == rt.status()["tor"]["socks"] and env["APAF_ALLOW_TOR2WEB"] == "0"
        st = rt.status()
        assert st["tor"]["bootstrap"] == 100 and all(a["published"] for a in st["apps"])
        cli = subprocess.run([sys.executable, "-m", "apaf.cli", "status", "--json", "--data-dir", str(data)],
                             capture_output=True, text=True, check=True)
        shown = json.loads(cli.stdout)
        assert shown["tor"]["running"] is True and shown["admin"] is None and shown["service_running"]
        assert {(a["name"], a["onion"], a["published"]) for a in shown["apps"]} == {
            ("static-site", site, True), ("envecho", onion, True)}
        key = data / "keys" / "envecho.key"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and key.read_text().startswith("ED25519-V3:")
        tor_pid = rt.tor_pid()
        assert rt.stop() == 0  # SIGTERM: clean exit
        assert not alive(tor_pid), "tor outlived apaf"
    # Same data dir, new runtime: same addresses, reachable again; --tor2web allow is passed on.
    with apaf_run(data, [STATIC_SITE, envecho_app], testnet, "--no-admin", "--tor2web", "allow") as rt:
        assert rt.onion("static-site") == site and rt.onion("envecho") == onion
        # The client still holds the old descriptors (dead introduction points); a real
        # visitor's tor recovers on its own, sometimes only after minutes. Start clean.
        forget_onions(testnet)
        assert get_via_tor(testnet.socks, f"http://{site}/") == (200, INDEX)
        status, body = get_via_tor(testnet.socks, f"http://{onion}/")
        assert status == 200 and json.loads(body)["APAF_ONION_ADDRESS"] == onion
        assert json.loads(body)["APAF_ALLOW_TOR2WEB"] == "1"
    assert json.loads((data / "settings.json").read_text())["allow_tor2web"] is True


def test_tor_killed_is_restarted_and_site_answers_at_same_address(testnet, tmp_path):
    timeline = tmp_path / "timeline"  # the runtime's milestones, in order (apaf.timeline)
    with apaf_run(tmp_path / "data", [STATIC_SITE], testnet, "--no-admin",
                  env={ENV_VAR: str(timeline)}) as rt:
        onion = rt.onion("static-site")
        assert get_via_tor(testnet.socks, f"http://{onion}/") == (200, INDEX)
        old_tor = rt.tor_pid()
        # Without its cached directory the new tor bootstraps in ~1 s, not tens of ms, so an
        # ADD_ONION sent before bootstrap ends could not land after it by chance.
        for cached in (tmp_path / "data" / "tor").glob("cached-*"):
            cached.unlink()
        before = len(timeline.read_text().splitlines())
        os.kill(old_tor, signal.SIGKILL)
        started = time.monotonic()
        down = rt.wait_status(lambda s: not s["tor"]["running"] or s["tor"]["bootstrap"] < 100, 10)
        assert not down["apps"][0]["published"], down  # the status never claims a dead service
        st = rt.wait_status(lambda s: s["tor"]["running"] and s["apps"][0]["published"], 90)
        assert st["apps"][0]["onion"] == onion and st["tor"]["bootstrap"] == 100
        assert rt.tor_pid() != old_tor
        # The new tor got the service once it had bootstrapped (apaf/tor/README.md, point 3).
        after = [line.rpartition(" ")[0] for line in timeline.read_text().splitlines()[before:]]
        assert after.index("bootstrapped") < after.index("onion-added static-site"), after
        # The client still holds the dead tor's descriptor. It gets through by itself, but an
        # old introduction point's stale ACK can make that take 90 s or more (visitor-side, see
        # apaf/tor/README.md "Restart and returning visitors"; one 165 s failure seen here).
        forget_onions(testnet)
        assert get_via_tor(testnet.socks, f"http://{onion}/", timeout=120) == (200, INDEX)
        print(f"tor killed -> site answers again after {time.monotonic() - started:.1f} s")


def test_runtime_killed_takes_tor_and_apps_with_it(testnet, envecho_app, tmp_path):
    with apaf_run(tmp_path / "data", [envecho_app], testnet, "--no-admin") as rt:
        onion = rt.onion("envecho")
        tor_pid = rt.tor_pid()
        _, body = get_via_tor(testnet.socks, f"http://{onion}/")
        app_pid = json.loads(body)["pid"]
        rt.stop(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(tor_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(tor_pid), "tor kept running after apaf was killed"
        while alive(app_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(app_pid), "the app kept running after apaf was killed"
    with apaf_run(tmp_path / "data", [envecho_app], testnet, "--no-admin") as rt:
        assert rt.onion("envecho") == onion

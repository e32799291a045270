"""The Runtime's control interface (what the admin UI drives) against the private Tor network.

One runtime in-process: reachability self-test, service stop/start, enabling apps, app
crash restart, torrc edits validated by tor. ~20-30 s.
"""
import asyncio
import json
import os
import signal
import stat

import aiohttp
import pytest

from apaf.admin.control import RuntimeControl
from apaf.errors import TorrcRejected
from apaf.runtime import Runtime
from fixtures.runtime import aget_via_tor, forget_onions


async def local_pid(host: str, port: int) -> int | None:
    """The pid the envecho app on host:port reports (None if it does not answer)."""
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://{host}:{port}/") as r:
            return (await r.json())["pid"]
    except aiohttp.ClientError:
        return None


async def test_runtime_control_on_testnet(testnet, envecho_app, tmp_path):
    data = tmp_path / "data"
    rt = Runtime([envecho_app], data, join_lines=testnet.join_torrc_lines(), admin=False)
    await rt.start()
    try:
        assert isinstance(rt, RuntimeControl)
        onion = (await rt.status())["apps"][0]["onion"]
        assert rt.available_apps() == [{"name": "envecho", "title": "Env echo", "enabled": True}]

        result = await rt.test_reachability("envecho")
        assert result["ok"] is True and result["error"] is None and result["seconds"] > 0, result
        on_disk = json.loads((data / "run" / "status.json").read_text())
        assert on_disk["apps"][0]["reachability"]["ok"] is True and on_disk["apps"][0]["published"]

        await rt.stop_service()
        st = await rt.status()
        assert st["service_running"] is False and st["apps"][0]["published"] is False
        assert st["apps"][0]["running"] is True  # apps keep running
        assert json.loads((data / "settings.json").read_text())["service_running"] is False
        with pytest.raises(AssertionError, match="failed"):
            await aget_via_tor(testnet.socks, f"http://{onion}/", timeout=8)
        assert (await rt.test_reachability("envecho"))["ok"] is False

        await rt.start_service()
        assert (await rt.test_reachability("envecho"))["ok"] is True
        forget_onions(testnet)  # it cached the descriptor of the stopped service
        status, _ = await aget_via_tor(testnet.socks, f"http://{onion}/")
        assert status == 200

        with pytest.raises(ValueError, match="unknown app 'nope'; available: envecho"):
            await rt.set_enabled_apps(["nope"])
        await rt.set_enabled_apps([])
        st = await rt.status()
        assert st["apps"][0]["enabled"] is False and st["apps"][0]["running"] is False
        await rt.set_enabled_apps(["envecho"])
        st = await rt.status()
        assert st["apps"][0]["running"] is True and st["apps"][0]["onion"] == onion

        # A crashed app is restarted on the same local port (the onion service maps to it).
        app = rt.apps["envecho"]
        port, first_pid = app.port, await local_pid(app.host, app.port)
        os.kill(first_pid, signal.SIGKILL)
        for _ in range(100):
            await asyncio.sleep(0.1)
            if app.restarts == 1 and app.running:
                break
        assert app.port == port and await local_pid(app.host, port) not in (None, first_pid)
        assert (await rt.status())["apps"][0]["running"] is True

        with pytest.raises(TorrcRejected, match="NoSuchThing is refused"):
            await rt.apply_torrc_extra("NoSuchThing 1\n")
        assert rt.torrc_extra() == "" and not (data / "torrc.extra").exists()
        await rt.apply_torrc_extra("SafeLogging 0\nMaxCircuitDirtiness 1234\n")
        assert stat.S_IMODE(os.stat(data / "torrc.extra").st_mode) == 0o600
        assert rt.torrc_extra() == "SafeLogging 0\nMaxCircuitDirtiness 1234\n"
        assert await rt.tor.call(lambda c: c.get_conf("MaxCircuitDirtiness")) == "1234"
        await rt.onions.wait_published("envecho", 60)
        status, _ = await aget_via_tor(testnet.socks, f"http://{onion}/")
        assert status == 200
    finally:
        await rt.stop()
    assert (await rt.status())["tor"]["running"] is False

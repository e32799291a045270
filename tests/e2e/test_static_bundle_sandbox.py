"""The escape battery inside the static bundle: the session's chat bundle, in a root holding
only the executable (plus /proc, /dev, /tmp and a stand-in /etc/shadow), runs its chat app and
the escape app (tests/integration/apps/escapes, given on the command line) both sandboxed.
~40 s after the session's bundle and testnet exist."""
from __future__ import annotations

import shutil
import urllib.request

import pytest

from fixtures.bundle import empty_root, run_in_root
from fixtures.escapes import ESCAPES_APP, LOG_PREFIX, app_address, app_ids, check_battery, escape_list, run_battery

pytestmark = pytest.mark.timeout(2400)  # the first user of the session's bundle may build it


async def test_chat_and_escape_battery_run_sandboxed_in_the_static_bundle(chat_bundle, testnet, tmp_path):
    root = empty_root(tmp_path / "root")
    shutil.copy2(chat_bundle.files["static"], root / "chat")
    shutil.copytree(ESCAPES_APP, root / "tmp" / "escapes")
    (root / "etc").mkdir()
    (root / "etc" / "shadow").write_text("root:stand-in:19000:0:99999:7:::\n")  # what an attacker wants
    (root / "tmp" / ".ssh").mkdir()
    (root / "tmp" / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    argv = ["/chat", "--testnet", "--wait-published", "--data-dir", "/tmp/data", "/tmp/escapes"]
    with run_in_root(root, argv, testnet) as rt:
        data = root / "tmp" / "data"
        (data / "apps" / "chat" / "secret.txt").write_text("chat's secret")
        status = rt.wait_status(lambda s: s["admin"], 30)
        control = (data / "tor" / "control-port").read_text().split("=", 1)[1].strip()
        attempts = escape_list(data="/tmp/data", home="/tmp", app_dir="/tmp/escapes", tmp="/tmp",
                               status=status, control=control, other="chat",
                               other_address=app_address(rt.proc.pid, "chat"),
                               own_port=app_address(rt.proc.pid, "escapes")[1], not_listed="/chat",
                               python="/chat")
        results, fetched, own = await run_battery(testnet.socks, rt.onion("escapes"), attempts,
                                                  f"http://{rt.onion('chat')}/")
        check_battery(results, attempts, (data / "run" / "logs" / "escapes.log").read_text())
        assert "/static/chat.js" in fetched and own == {"data": "kept\nkept\n", "tmp": "scratch"}
        chat_log = (data / "run" / "logs" / "chat.log").read_text()
        assert "apaf sandbox: confined in" in chat_log and "Traceback" not in chat_log
        assert LOG_PREFIX not in chat_log  # honest work leaves no refusal in the log
        host, port = app_address(rt.proc.pid, "chat")
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as resp:  # chat still serves
            assert resp.status == 200
        from apaf.sandbox.account import app_uid  # started as root: each app under its own uid
        ids = {name: app_ids(rt.proc.pid, name) for name in ("chat", "escapes")}
        assert ids == {n: (app_uid(n),) * 2 for n in ids} and ids["chat"] != ids["escapes"], ids
        st = rt.status()
        assert st["sandbox"]["files"] and st["sandbox"]["network"] and st["sandbox"]["system_calls"]
        assert all(a["running"] for a in st["apps"])

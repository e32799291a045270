"""Several apps' onion services reach tor in one write, so tor's first onion-service run
builds all their descriptors and launches all their introduction circuits.

Added one control round trip apart, the second app missed that run and was uploaded a
second after the first (apaf/tor/batch.py). Read from the runtime's own tor's log (the
rend domain at info level) on the private network, for a start with existing keys.
"""
import json
from pathlib import Path
from types import SimpleNamespace

from apaf.testnet.state import STATE_FILE
from fixtures.runtime import apaf_run, forget_onions, get_via_tor

STATIC_SITE = Path(__file__).resolve().parents[2] / "examples" / "static-site"


def rend_logged(testnet, log: Path) -> SimpleNamespace:
    """The network, joined by a tor that also logs its onion-service steps to `log`."""
    folder = log.with_suffix(".testnet")
    folder.mkdir()
    state = json.loads((Path(testnet.workdir) / STATE_FILE).read_text())
    state["torrc"] += [f"Log [rend]info file {log}", "SafeLogging 0"]
    (folder / STATE_FILE).write_text(json.dumps(state))
    return SimpleNamespace(workdir=folder, socks=testnet.socks)


def test_every_app_is_in_tors_first_onion_service_run(testnet, envecho_app, tmp_path):
    apps, data = [STATIC_SITE, envecho_app], tmp_path / "data"
    with apaf_run(data, apps, testnet, "--no-admin") as rt:  # makes the keys
        ids = {rt.onion(name).removesuffix(".onion") for name in ("static-site", "envecho")}
    log = tmp_path / "tor-rend.log"
    with apaf_run(data, apps, rend_logged(testnet, log), "--no-admin") as rt:
        forget_onions(testnet)
        assert get_via_tor(testnet.socks, f"http://{rt.onion('envecho')}/")[0] == 200
    lines = log.read_text().splitlines()
    first_intro = next(i for i, line in enumerate(lines)
                       if "Introduction circuit" in line and "established for service" in line)
    built_first = {line.split("Hidden service ", 1)[1].split()[0] for line in lines[:first_intro]
                   if "has just started. Both descriptors built" in line}
    assert built_first == ids, (
        f"tor built descriptors for {sorted(built_first)} before its first introduction circuit, "
        f"expected both apps {sorted(ids)}: an app added a round trip later waits a second")

"""When the runtime hands tor an onion service: the address comes from the key on disk at
once, the ADD_ONION only once tor has built its first circuit, at start and after every tor
restart (why: apaf/tor/README.md)."""
import asyncio
from types import SimpleNamespace

import pytest

from apaf.onion import OnionServices, service_id_of
from apaf.runtime import Runtime
from apaf.settings import Settings

# A key tor made (ADD_ONION NEW on the private test network) and the address tor gave for it.
TOR_KEY = ("ED25519-V3:6DLQW1AkCuqPLkXvma5D5eLAItpH4qVsZrXp08m4RXolSMcfZfdcjkXueBnbR+HDEIb2Ffby9RMJ"
           "ZvBt5Xf0EA==")
TOR_ADDRESS = "zip27rge3pmwssi7mk3wl7snn76yiuxnesz42kiq3rurmgwos3thq3ad"


def test_address_from_the_key_is_the_one_tor_gives():
    assert service_id_of(TOR_KEY) == TOR_ADDRESS


class FakeTor:
    """Records ADD_ONIONs; bootstrap finishes when the test says so."""

    def __init__(self):
        self.added: list[tuple[str, str]] = []
        self.batches: list[list] = []  # one entry per write to tor
        self.booted = asyncio.Event()

    @property
    def bootstrapped(self):
        return self.booted.is_set()

    async def wait_bootstrapped(self, timeout=None):
        await asyncio.wait_for(self.booted.wait(), timeout)

    def restart(self):
        """A new tor process: not bootstrapped (what Tor does on a crash or a torrc restart)."""
        self.booted.clear()

    async def add_onions(self, requests):
        self.batches.append(requests)
        self.added += [tuple(r.key.split(":", 1)) for r in requests]
        return [SimpleNamespace(service_id=TOR_ADDRESS, private_key_type=None, private_key=None)
                for _ in requests]


def runtime_with_key(tmp_path) -> tuple[Runtime, FakeTor]:
    rt = Runtime.__new__(Runtime)  # its parts by hand: no tor process, no app process
    tor = FakeTor()
    (tmp_path / "keys").mkdir(parents=True)
    (tmp_path / "keys" / "site.key").write_text(TOR_KEY + "\n")
    rt.tor, rt.onions = tor, OnionServices(tor, tmp_path / "keys")
    rt.settings, rt.manifests = Settings(), {"site": SimpleNamespace(ports=[80])}
    rt.apps = {"site": SimpleNamespace(host="127.0.0.1", port=8080)}
    rt._ops, rt._publishing = asyncio.Lock(), {}
    rt._write_status = lambda: None
    return rt, tor


async def test_a_known_key_is_added_only_after_bootstrap(tmp_path):
    rt, tor = runtime_with_key(tmp_path)
    assert await rt.onions.address("site") == f"{TOR_ADDRESS}.onion"  # without tor
    rt._publish_when_tor_is_ready("site")
    await asyncio.sleep(0.05)
    assert tor.added == [] and not rt.onions.get("site").active
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    assert tor.added == [("ED25519-V3", TOR_KEY.split(":", 1)[1])]
    assert rt.onions.get("site").active


async def test_no_add_when_the_owner_stopped_the_service_meanwhile(tmp_path):
    rt, tor = runtime_with_key(tmp_path)
    rt._publish_when_tor_is_ready("site")
    rt.settings.service_running = False
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    assert tor.added == []


async def published_once(tmp_path) -> tuple[Runtime, FakeTor]:
    rt, tor = runtime_with_key(tmp_path)
    rt._publish_when_tor_is_ready("site")
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    assert len(tor.added) == 1
    for action in ("UPLOAD", "UPLOADED"):  # tor's HS_DESC events of one HSDir's upload
        rt.onions.on_hs_desc(SimpleNamespace(action=action, address=TOR_ADDRESS, directory_fingerprint="A"))
    await asyncio.wait_for(rt.onions.wait_published("site"), 1)
    return rt, tor


async def test_a_restarted_tor_gets_the_service_only_after_its_bootstrap(tmp_path):
    """The supervisor's restart (`_tor_restarted`) and the torrc editor's (`restarted=`,
    called under the lock) both re-add through _republish."""
    for restart in ("supervisor", "torrc edit"):
        rt, tor = await published_once(tmp_path / restart)
        tor.restart()
        if restart == "supervisor":
            await asyncio.wait_for(rt._tor_restarted(), 1)
        else:
            async with rt._ops:
                await asyncio.wait_for(rt._republish(), 1)
        await asyncio.sleep(0.05)
        svc = rt.onions.get("site")
        assert len(tor.added) == 1, f"{restart}: ADD_ONION sent to a tor still bootstrapping"
        assert not svc.active and not svc.published
        with pytest.raises(asyncio.TimeoutError):  # `apaf run --wait-published`, tests
            await rt.onions.wait_published("site", 0.05)
        tor.booted.set()
        await asyncio.wait_for(rt._publication("site", 5), 5)
        assert len(tor.added) == 2 and svc.active


async def test_the_lock_is_free_while_a_restarted_tor_bootstraps(tmp_path):
    """Admin actions (they take _ops) must not hang behind a tor that cannot bootstrap."""
    rt, tor = await published_once(tmp_path)
    tor.restart()
    await asyncio.wait_for(rt._tor_restarted(), 1)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(rt._ops.acquire(), 1)
    rt._ops.release()
    rt.settings.service_running = False  # the owner stopped the service meanwhile
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    assert len(tor.added) == 1


async def test_tor_restarting_while_the_add_waits_for_the_lock_waits_for_the_new_tor(tmp_path):
    rt, tor = runtime_with_key(tmp_path)
    tor.booted.set()
    async with rt._ops:  # an admin action holds the lock when bootstrap ends ...
        rt._publish_when_tor_is_ready("site")
        await asyncio.sleep(0.05)
        tor.restart()  # ... and tor crashes and restarts before it is released
    await asyncio.sleep(0.05)
    assert tor.added == []
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    assert len(tor.added) == 1


async def test_apps_waiting_for_bootstrap_go_to_tor_in_one_write(tmp_path):
    """tor's onion-service run after the first ADD_ONION sees only what came in the same read
    (apaf/tor/batch.py); the integration check is tests/integration/test_onion_batch.py."""
    rt, tor = runtime_with_key(tmp_path)
    (tmp_path / "keys" / "chat.key").write_text(TOR_KEY + "\n")
    rt.manifests["chat"] = SimpleNamespace(ports=[80])
    rt.apps["chat"] = SimpleNamespace(host="127.0.0.1", port=8081)
    rt._publish_when_tor_is_ready("site")
    rt._publish_when_tor_is_ready("chat")
    await asyncio.sleep(0.05)
    tor.booted.set()
    await asyncio.wait_for(rt._publication("site", 5), 5)
    await asyncio.wait_for(rt._publication("chat", 5), 5)
    assert [[r.ports for r in batch] for batch in tor.batches] == [
        [{80: "127.0.0.1:8080"}, {80: "127.0.0.1:8081"}]]
    assert "Flags=Detach," in tor.batches[0][0].command()

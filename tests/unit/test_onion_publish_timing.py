"""When the runtime hands tor an onion service: the address comes from the key on disk at
once, the ADD_ONION only once tor has built its first circuit (why: apaf/tor/README.md)."""
import asyncio
from types import SimpleNamespace

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
        self.booted = asyncio.Event()

    async def wait_bootstrapped(self, timeout=None):
        await asyncio.wait_for(self.booted.wait(), timeout)

    async def call(self, fn):
        return fn(self)

    def create_ephemeral_hidden_service(self, ports, key_type, key_content, **_):
        self.added.append((key_type, key_content))
        return SimpleNamespace(service_id=TOR_ADDRESS, private_key_type=None, private_key=None)


def runtime_with_key(tmp_path) -> tuple[Runtime, FakeTor]:
    rt = Runtime.__new__(Runtime)  # its parts by hand: no tor process, no app process
    tor = FakeTor()
    (tmp_path / "keys").mkdir()
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

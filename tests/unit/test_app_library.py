"""The app library explains what is missing outside the runtime and reads the runtime's env."""
from __future__ import annotations

import json

import pytest

import apaf
from apaf.errors import ConfigError

ONION = "a" * 56 + ".onion"


@pytest.fixture(autouse=True)
def no_runtime(monkeypatch):
    for name in ("APAF_SOCKS", "APAF_ONION_ADDRESS", "APAF_STATUS_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("call, variable", [
    (lambda: apaf.connect("example.onion", 80), "APAF_SOCKS"),
    (lambda: apaf.proxy_url(), "APAF_SOCKS"),
    (lambda: apaf.onion_address(), "APAF_ONION_ADDRESS"),
    (lambda: apaf.tor_status(), "APAF_STATUS_FILE"),
])
def test_outside_the_runtime_errors_name_the_variable_and_the_fix(call, variable):
    with pytest.raises(apaf.NotUnderRuntime, match=rf"{variable} is not set.*apaf run APP_DIR"):
        call()


async def test_async_apis_also_refuse_outside_the_runtime():
    with pytest.raises(apaf.NotUnderRuntime, match="APAF_SOCKS"):
        await apaf.open_connection("example.onion", 80)
    with pytest.raises(apaf.NotUnderRuntime, match="APAF_SOCKS"):
        apaf.http_session()


@pytest.mark.parametrize("value, url", [
    ("127.0.0.1:9050", "socks5://127.0.0.1:9050"),
    ("socks5://127.0.0.1:9150", "socks5://127.0.0.1:9150"),
    ("socks5h://127.0.0.1:9150/", "socks5://127.0.0.1:9150"),
    ("[::1]:9050", "socks5://[::1]:9050"),
])
def test_socks_address_forms(monkeypatch, value, url):
    monkeypatch.setenv("APAF_SOCKS", value)
    assert apaf.proxy_url() == url


@pytest.mark.parametrize("value", ["localhost:9050", "127.0.0.1", "127.0.0.1:0", "http://127.0.0.1:9050", "127.0.0.1:x"])
def test_bad_socks_address_is_refused_without_a_lookup(monkeypatch, value):
    monkeypatch.setenv("APAF_SOCKS", value)
    with pytest.raises(ConfigError, match="APAF_SOCKS="):
        apaf.proxy_url()


def test_onion_address_is_checked(monkeypatch):
    monkeypatch.setenv("APAF_ONION_ADDRESS", ONION.upper())
    assert apaf.onion_address() == ONION
    monkeypatch.setenv("APAF_ONION_ADDRESS", "example.com")
    with pytest.raises(ConfigError, match="not a v3 onion address"):
        apaf.onion_address()


def test_tor_status_reads_the_status_file(monkeypatch, tmp_path):
    path = tmp_path / "status.json"
    monkeypatch.setenv("APAF_STATUS_FILE", str(path))
    assert apaf.tor_status() == apaf.TorStatus(False, 0, f"{path} not written yet", "", "")
    path.write_text(json.dumps({"tor": {"running": True, "version": "0.4.9.11", "bootstrap": 100,
                                        "summary": "Done", "socks": "127.0.0.1:9"}, "apps": []}))
    status = apaf.tor_status()
    assert status.bootstrapped and status.version == "0.4.9.11" and status.socks == "127.0.0.1:9"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        apaf.tor_status()


async def test_http_session_owns_its_connector(monkeypatch):
    monkeypatch.setenv("APAF_SOCKS", "127.0.0.1:9050")
    with pytest.raises(TypeError, match="connector"):
        apaf.http_session(connector=None)
    async with apaf.http_session() as session:
        assert session.connector is not None

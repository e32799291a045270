"""What a real app process (launcher, sandbox on, the app serving requests) has imported: the
modules each app does not use stay out, since every one of them stays in its memory (issue 15).

The app is started as the runtime starts it (AppProcess), through a small entry that records
sys.modules before the app's code runs and every import after it (an audit hook), then hands
over to the app's own entry. ~5 s.
"""
import shutil
import urllib.request
from pathlib import Path

import pytest

from apaf.apps import AppProcess
from apaf.manifest import load_manifest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RECORDER = '''
import sys
print("modules:", *sorted(sys.modules), file=sys.stderr, flush=True)
sys.addaudithook(lambda event, args: event == "import" and print("modules:", args[0], file=sys.stderr, flush=True))


def main():
    import importlib, json, os
    module, _, func = json.loads(os.environ["APAF_SETTINGS"])["recorded_entry"].partition(":")
    return getattr(importlib.import_module(module), func)()
'''
# Loaded by no app: the launcher once parsed apaf.toml (tomllib, the SPDX table), the sandbox
# imported shutil (bz2, lzma) and platform for one call each, and nothing here uses these.
NO_APP = {"tomllib", "apaf.manifest", "packaging", "difflib", "jinja2", "sqlite3", "stem", "apaf.apps.process"}
# The static site makes no TLS connection and no hash: OpenSSL stays out (asyncio's ssl is
# loaded on first use only, apaf.lazy_ssl), and so do aiohttp and email.utils' MIME modules.
STATIC_SITE = NO_APP | {"ssl", "_ssl", "hashlib", "_hashlib", "hmac", "secrets", "shutil", "bz2", "lzma",
                        "platform", "aiohttp", "email.utils", "email.charset", "ctypes.util"}


async def imported(app_dir: Path, tmp_path: Path, paths: list[tuple[str, dict]]) -> set[str]:
    """Every module the app process at app_dir had imported once it answered `paths`."""
    copy = shutil.copytree(app_dir, tmp_path / "app")
    (copy / "recorder.py").write_text(RECORDER)
    manifest = (copy / "apaf.toml").read_text()
    entry = load_manifest(copy).entry
    manifest = manifest.replace(f'entry = "{entry}"', 'entry = "recorder:main"')
    manifest = manifest.replace("[settings]", f'[settings]\nrecorded_entry = "{entry}"') \
        if "[settings]" in manifest else manifest + f'\n[settings]\nrecorded_entry = "{entry}"\n'
    (copy / "apaf.toml").write_text(manifest)
    app = AppProcess(load_manifest(copy), data_dir=tmp_path / "d", log_path=tmp_path / "log",
                     env={"APAF_ONION_ADDRESS": "x" * 56 + ".onion"})
    await app.start()
    try:
        for path, headers in paths:
            request = urllib.request.Request(f"http://{app.host}:{app.port}{path}", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as r:
                    r.read()
            except urllib.error.HTTPError as err:
                assert err.code in (304, 404), (path, err.code)
    finally:
        await app.stop()
    log = (tmp_path / "log").read_text()
    assert "apaf sandbox: confined" in log, log  # the sandbox was on, as under `apaf run`
    return {m for line in log.splitlines() if line.startswith("modules: ") for m in line.split()[1:]}


def heavy(modules: set[str], unwanted: set[str]) -> set[str]:
    return {m for m in modules if m in unwanted or m.split(".")[0] in unwanted}


async def test_static_site_process_loads_no_openssl_aiohttp_or_manifest_parser(tmp_path):
    site = shutil.copytree(EXAMPLES / "static-site", tmp_path / "site")
    (site / "public" / "big.bin").write_bytes(bytes(range(256)) * 2048)  # 512 KiB: sent by sendfile
    got = await imported(site, tmp_path, [
        ("/", {}), ("/", {"Accept-Encoding": "gzip"}), ("/big.bin", {}), ("/big.bin", {"Range": "bytes=0-9,20-29"}),
        ("/", {"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}), ("/nope", {})])
    assert "apaf.staticsite.server" in got  # it did record the site's own imports
    assert not heavy(got, STATIC_SITE), heavy(got, STATIC_SITE)


async def test_chat_process_loads_no_openssl_aiohttp_or_manifest_parser(tmp_path):
    """The chat runs on the static site's server: none of what the static site leaves out
    (its websockets' SHA-1 is CPython's own, not OpenSSL's)."""
    got = await imported(EXAMPLES / "chat", tmp_path, [
        ("/", {}), ("/rooms", {}), ("/static/chat.js", {}), ("/nope", {})])
    assert "apaf.web.websocket" in got
    assert not heavy(got, STATIC_SITE), heavy(got, STATIC_SITE)


@pytest.fixture(autouse=True)
def _linux_only():
    import sys
    if sys.platform != "linux":
        pytest.skip("the modules listed are those of the Linux sandbox's app process")

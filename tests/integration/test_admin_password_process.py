"""The real runtime (`apaf run --testnet`) never maps OpenSSL's libcrypto (~3.5 MB of RSS): not
for the first boot's password hash, not for the owner's login (issue 15: <= 35 MB). Both run
scrypt in a child process (apaf/scrypt_child.py). RSS is printed, as a figure, not asserted.
"""
from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")

STATIC_SITE = Path(__file__).resolve().parents[2] / "examples" / "static-site"


def _mapped_openssl(pid: int) -> list[str]:
    libs = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
            if "libcrypto" in line or "libssl" in line}
    return sorted(libs)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _printed(rt, label: str) -> str:
    return next(ln.split(": ", 1)[1] for ln in rt.lines if ln.startswith(label))


async def _log_in(admin_url: str, password: str) -> tuple[int, str]:
    """POST /login as a browser would (secret Host name, CSRF token): (status, Location)."""
    host = admin_url.split("/")[2]
    base = f"http://127.0.0.1:{host.rsplit(':', 1)[1]}"
    headers = {"Host": host, "Origin": f"http://{host}"}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(f"{base}/login", headers=headers) as r:
            csrf = (await r.text()).split('name="csrf" value="', 1)[1].split('"', 1)[0]
        async with client.post(f"{base}/login", headers=headers, allow_redirects=False,
                               data={"csrf": csrf, "password": password}) as r:
            return r.status, r.headers.get("Location", "")


async def test_first_boot_and_login_leave_libcrypto_out_of_the_runtime(testnet, tmp_path):
    from fixtures.runtime import apaf_run  # here: fixtures.runtime must load as a plugin first

    data = tmp_path / "data"
    with apaf_run(data, [STATIC_SITE], testnet) as rt:
        pid = rt.proc.pid
        hash_file = data / "admin" / "password"
        deadline = time.monotonic() + 30
        while not hash_file.exists():  # the first boot's hash, written by a thread
            assert time.monotonic() < deadline, "the first-boot password hash was never written"
            time.sleep(0.05)
        assert _mapped_openssl(pid) == [], "the first-boot hash loaded OpenSSL into the runtime"
        first_boot = _rss_mb(pid)

        admin_url, password = _printed(rt, "admin: "), _printed(rt, "admin password ")
        assert (await _log_in(admin_url, "not the password"))[0] == 403
        status, to = await _log_in(admin_url, password)
        assert status == 303 and not to.endswith("/login"), (status, to)  # logged in
        assert _mapped_openssl(pid) == [], "a login loaded OpenSSL into the runtime"
        print(f"runtime RSS: {first_boot:.1f} MB after the first-boot hash, "
              f"{_rss_mb(pid):.1f} MB after two logins")

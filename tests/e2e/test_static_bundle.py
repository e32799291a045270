"""The static executable in an empty root: it starts its own tor and serves its onion service.

The root holds only the executable and /proc, /dev, /tmp (no libc, no tor, no Python,
PATH pointing nowhere); the client is the private Tor network's. Wall time: ~40-90 s
after the session's bundle and testnet exist.
"""
from __future__ import annotations

import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from fixtures.bundle import empty_root, run_in_root
from fixtures.runtime import alive, descendants, get_via_tor

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)


def test_static_executable_serves_the_app_over_tor_from_an_empty_root(chat_bundle, testnet, tmp_path):
    exe = chat_bundle.files["static"]
    root = empty_root(tmp_path / "root")
    shutil.copy2(exe, root / "chat")
    assert sorted(p.name for p in root.iterdir()) == ["chat", "dev", "proc", "tmp"]
    with run_in_root(root, ["/chat", "--testnet", "--wait-published", "--data-dir", "/tmp/data"], testnet) as rt:
        onion = rt.onion("chat")
        admin = next(line.split(" ", 1)[1] for line in rt.lines if line.startswith("admin: "))
        # Its tor is the one frozen inside the bundle: unpacked under the root's /tmp.
        tors = [p for p in descendants(rt.proc.pid) if Path(f"/proc/{p}/comm").read_text().strip() == "tor"]
        assert len(tors) == 1, rt.lines
        assert os.readlink(f"/proc/{tors[0]}/exe").startswith(str(root / "tmp")), os.readlink(f"/proc/{tors[0]}/exe")
        # ... built with libseccomp, it runs under its own filter (Sandbox 1; issue 14), and says so.
        assert rt.wait_status(lambda s: s["tor"]["sandbox"]["on"], 30)["tor"]["sandbox"]["why_off"] is None
        assert "Seccomp:\t2" in Path(f"/proc/{tors[0]}/status").read_text()
        status, body = get_via_tor(testnet.socks, f"http://{onion}/")
        assert status == 200 and b"/static/chat.js" in body
        # The admin UI answers on loopback, at the secret *.localhost name it printed
        # (browsers resolve it themselves; glibc may not: connect to 127.0.0.1).
        name_port = admin.split("/")[2]
        request = urllib.request.Request(f"http://127.0.0.1:{name_port.rsplit(':', 1)[1]}/login",
                                         headers={"Host": name_port})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
            page, cookie = resp.read().decode(), resp.headers["Set-Cookie"].split(";", 1)[0]
        # The printed password logs in: checked by the bundle re-executed as its scrypt child
        # (`--apaf-scrypt`, apaf/scrypt_child.py), in a root with no Python of its own.
        password = next(line.split(": ", 1)[1] for line in rt.lines if line.startswith("admin password "))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        login = urllib.request.Request(
            request.full_url, data=urllib.parse.urlencode({"csrf": csrf, "password": password}).encode(),
            headers={"Host": name_port, "Origin": f"http://{name_port}", "Cookie": cookie})
        with pytest.raises(urllib.error.HTTPError) as answer:  # a redirect, not followed
            urllib.request.build_opener(_NoRedirect).open(login, timeout=30)
        assert answer.value.code == 303 and not answer.value.headers["Location"].endswith("/login")
        assert (root / "tmp" / "data" / "keys" / "chat.key").stat().st_mode & 0o777 == 0o600
        # kill -9 of the file the user started (staticx's launcher) cannot be passed down the
        # chain: the runtime watches its launchers, and it, its tor and its apps go too.
        below = descendants(rt.proc.pid)
        assert len(below) >= 4, below  # PyInstaller's launcher, the runtime, tor, the app
        rt.proc.kill()
        rt.proc.wait()
        killed = time.monotonic()
        while any(map(alive, below)) and time.monotonic() - killed < 30:
            time.sleep(0.1)
        left = [(p, Path(f"/proc/{p}/cmdline").read_bytes()[:80]) for p in below if alive(p)]
        assert not left, f"still serving 30 s after kill -9 of the launcher: {left}"
        print(f"all {len(below)} processes gone {time.monotonic() - killed:.2f} s after kill -9 of the launcher")

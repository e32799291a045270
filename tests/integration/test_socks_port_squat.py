"""Another local user cannot take the Tor SOCKS port apps were given while tor restarts.

The attack (issue H3): apps get APAF_SOCKS=127.0.0.1:P once, for the runtime's life. When
tor itself held P, a crash (or a restart for a torrc edit) freed P for the supervisor's
back-off; a process of another uid that polls bind(127.0.0.1:P) took it, the new tor could
not bind its SocksPort, and every app's "connection over Tor" went to that process: the
destination's name and the app's data left outside Tor. Now the runtime holds P for its
whole life and relays it to tor's own `auto` port (apaf.tor.relay).

A real `apaf run` on the private Tor network with the onionfetch app (it fetches through
apaf.http_session and apaf.open_connection); the attacker is a child under a throwaway uid
that polls bind() from before tor is killed until the app has fetched. ~30-60 s.
"""
import errno
import json
import os
import queue
import select
import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from fixtures.escapes import app_address
from fixtures.runtime import apaf_run

ONIONFETCH = Path(__file__).resolve().parent / "apps" / "onionfetch"
ATTACKER_UID = 60999  # below apaf's app uids (apaf.sandbox.account), no account on this machine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the attacker as another uid")

def squat(port: int, report_fd: int, stop_fd: int) -> None:
    """In a child under ATTACKER_UID: poll bind(127.0.0.1:`port`) until `stop_fd` is readable;
    once it has the port, play a SOCKS5 server and record what apps send."""
    report = {"uid": os.getuid(), "tries": 0, "in_use": 0, "bound": False, "received": []}

    def say(text: str) -> None:
        os.write(report_fd, (text + "\n").encode())

    say("polling")
    srv = None
    while srv is None and not select.select([stop_fd], [], [], 0.001)[0]:
        s = socket.socket()
        report["tries"] += 1
        try:
            s.bind(("127.0.0.1", port))
            s.listen(16)
            srv, report["bound"] = s, True
            say("bound")
        except OSError as err:
            s.close()
            report["in_use"] += err.errno == errno.EADDRINUSE
    while srv is not None and srv in select.select([srv, stop_fd], [], [])[0]:
        conn, _ = srv.accept()
        conn.settimeout(5)
        try:
            conn.recv(16)                          # the greeting
            conn.sendall(b"\x05\x00")              # no authentication
            req = conn.recv(300)                   # CONNECT: 05 01 00 03 len name port
            report["received"].append(req[5:5 + req[4]].decode(errors="replace"))
            conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
            report["received"].append(conn.recv(4096).decode(errors="replace"))
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nsquatted\n")
        except OSError:
            pass
        conn.close()
    say(json.dumps(report))


class Squatter:
    """`squat` in a forked child that drops to ATTACKER_UID first."""

    def __init__(self, port: int):
        report_r, report_w = os.pipe()
        self._stop_r, self._stop_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.setgroups([])
                os.setgid(ATTACKER_UID)
                os.setuid(ATTACKER_UID)
                squat(port, report_w, self._stop_r)
                code = 0
            finally:
                os._exit(code)
        os.close(report_w)
        self.lines: queue.Queue = queue.Queue()
        reader = os.fdopen(report_r)
        threading.Thread(target=lambda: [self.lines.put(ln.strip()) for ln in reader], daemon=True).start()
        assert self.lines.get(timeout=10) == "polling"

    def stop(self) -> dict:
        os.write(self._stop_w, b"x")
        os.waitpid(self.pid, 0)
        while (line := self.lines.get(timeout=5)) in ("polling", "bound"):
            pass
        return json.loads(line)


def fetch_through_app(app: tuple[str, int], url: str, timeout: float) -> dict:
    """Ask onionfetch (on its loopback port) to GET `url` with apaf's library."""
    query = f"http://{app[0]}:{app[1]}/?url={url}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(query, timeout=60) as answer:
                return json.loads(answer.read())
        except OSError as err:  # tor just restarted: the fetch may fail before it has circuits
            if time.monotonic() > deadline:
                raise AssertionError(f"onionfetch did not fetch {url} in {timeout} s: {err}") from None
            time.sleep(1)


def test_another_user_cannot_take_the_socks_port_while_tor_restarts(testnet, onion_site, tmp_path):
    with apaf_run(tmp_path / "data", [ONIONFETCH], testnet, "--no-admin") as rt:
        socks = rt.status()["tor"]["socks"]
        port = int(socks.rsplit(":", 1)[1])
        app = app_address(rt.proc.pid, "onionfetch")
        squatter = Squatter(port)
        try:
            old_tor = rt.tor_pid()
            os.kill(old_tor, signal.SIGKILL)
            started = time.monotonic()
            # Until tor is back and bootstrapped, or the squatter has the port.
            bound = False
            while time.monotonic() - started < 90:
                try:
                    bound = squatter.lines.get(timeout=0.2) == "bound"
                except queue.Empty:
                    pass
                st = rt.status()
                if bound or (st["tor"]["running"] and st["tor"]["bootstrap"] == 100
                             and rt.tor_pid() != old_tor):
                    break
            fetched = fetch_through_app(app, onion_site.url, 120)
        finally:
            report = squatter.stop()
        assert report["uid"] == ATTACKER_UID
        assert not report["bound"], (
            f"uid {ATTACKER_UID} took the SOCKS port apps use ({socks}) while tor restarted, "
            f"and received from the app: {report['received']}")
        assert report["received"] == []
        assert report["in_use"] > 100, report  # it really polled, and the port stayed held
        # The app's connections went through the restarted tor to the onion site.
        assert fetched["session"] == fetched["stream"] == onion_site.body.decode()
        assert rt.status()["tor"]["socks"] == socks
        print(f"squatter tried bind() {report['tries']} times over "
              f"{time.monotonic() - started:.1f} s; every one EADDRINUSE")

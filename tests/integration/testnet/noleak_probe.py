"""Run inside a loopback-only network namespace (see test_no_leaks.py); prints one JSON line.

Starts a private Tor network whose exit relays resolve names with their own DNS server
(127.0.0.54, answers 127.0.0.1), a silent DNS server on 127.0.0.53 where the namespace's
resolv.conf points (it must hear nothing), a loopback HTTP site, an onion service, then
(1) an app process using every library API, (2) `apaf run --testnet` with an app that
fetches through the library, and reports what each DNS server heard.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for the shared fixtures

from fixtures.runtime import ENVECHO, apaf_run, get_via_tor  # noqa: E402
from fixtures.testnet import serve_body, start_onion_site  # noqa: E402
from noleak_dns import DnsServer  # noqa: E402

from apaf.testnet import TestNetwork  # noqa: E402

LOCAL_RESOLVER = "127.0.0.53"
EXIT_RESOLVER = "127.0.0.54"


def main(workdir: Path) -> dict:
    local = DnsServer(LOCAL_RESOLVER)
    exit_dns = DnsServer(EXIT_RESOLVER, answer="127.0.0.1")
    resolv = workdir / "exit-resolv.conf"
    resolv.write_text(f"nameserver {EXIT_RESOLVER}\n")
    body = f"reached through an exit {secrets.token_hex(4)}\n"
    server = serve_body(body.encode())
    port = server.server_address[1]
    report = {"interfaces": [name for _, name in socket.if_nameindex()], "body": body}
    net = TestNetwork(workdir / "net", relays=3, relay_torrc=[
        f"ServerDNSResolvConfFile {resolv}",
        "ServerDNSDetectHijacking 0",  # our exit resolver answers every name: not hijacking
    ])
    net.start(timeout=240)
    try:
        onion = start_onion_site(net, "noleak-onion")
        report.update(socks=net.socks, onion_body=onion.body.decode())
        name = f"leakcheck-{secrets.token_hex(6)}.example"
        app = subprocess.run(
            [sys.executable, str(HERE / "noleak_app.py"), f"http://{name}:{port}/", onion.url],
            env={**os.environ, "APAF_SOCKS": net.socks}, capture_output=True, text=True, timeout=300,
        )
        report["app_name"] = name
        report["app"] = json.loads(app.stdout) if app.returncode == 0 else {"error": app.stderr[-3000:]}
        name = f"leakcheck-runtime-{secrets.token_hex(6)}.example"
        report["runtime_name"] = name
        with apaf_run(workdir / "apaf-data", [ENVECHO.parent / "onionfetch"], net) as rt:
            url = f"http://{rt.onion('onionfetch')}/?url={quote(f'http://{name}:{port}/')}"
            status, answer = get_via_tor(net.socks, url, timeout=120)
            report["runtime"] = {"status": status, "answer": answer.decode()}
    finally:
        net.stop()
    report.update(local_dns=local.names, exit_dns=exit_dns.names)
    return report


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))

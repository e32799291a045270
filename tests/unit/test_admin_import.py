"""The runtime imports the admin UI's aiohttp without aiohttp's client half and without the
system CA store (memory, start-up time); the client still works once asked for, and TLS in
the runtime process stays closed, not open."""
import json
import subprocess
import sys

PROBE = """
import json, ssl, sys
import apaf.admin
client_at_start = sorted(m for m in ("aiohttp.client", "aiohttp.connector", "aiohttp.cookiejar")
                         if m in sys.modules)
import aiohttp
from aiohttp import web
from aiohttp_socks import ProxyConnector  # what the reachability test uses: aiohttp's client
import aiohttp.connector as c
ca = lambda ctx: ctx.cert_store_stats()["x509_ca"]
print(json.dumps({"client_at_start": client_at_start,
                  "session": aiohttp.ClientSession.__module__, "version": aiohttp.__version__,
                  "web_app": web.Application is aiohttp.web.Application,
                  "aiohttp_cas": ca(c._SSL_CONTEXT_VERIFIED),
                  "aiohttp_verifies": c._SSL_CONTEXT_VERIFIED.verify_mode == ssl.CERT_REQUIRED,
                  "aiohttp_checks_names": c._SSL_CONTEXT_VERIFIED.check_hostname,
                  "later_context_cas": ca(ssl.create_default_context())}))
"""


def probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def test_admin_import_leaves_out_aiohttps_client_until_it_is_used():
    got = probe()
    assert got["client_at_start"] == [], "aiohttp's client was imported with the admin UI (~1.8 MB)"
    assert got["session"] == "aiohttp.client" and got["web_app"]
    from importlib.metadata import version
    assert got["version"] == version("aiohttp")  # the Server header's version, read before __init__ ran


def test_admin_import_skips_the_ca_store_and_tls_fails_closed():
    got = probe()
    assert got["aiohttp_cas"] == 0, "aiohttp's default TLS context loaded the CA store (~3 MB)"
    # With no CA trusted, a TLS connection on aiohttp's defaults cannot be verified: refused.
    assert got["aiohttp_verifies"] and got["aiohttp_checks_names"]
    assert got["later_context_cas"] > 0, "any other TLS context must load the CA store as usual"

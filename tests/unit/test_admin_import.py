"""The runtime imports the admin UI's aiohttp without the system CA store (memory, start-up
time), and that leaves TLS in the runtime process closed, not open."""
import json
import subprocess
import sys

PROBE = """
import json, ssl
import apaf.admin
import aiohttp.connector as c
ca = lambda ctx: ctx.cert_store_stats()["x509_ca"]
print(json.dumps({"aiohttp_cas": ca(c._SSL_CONTEXT_VERIFIED),
                  "aiohttp_verifies": c._SSL_CONTEXT_VERIFIED.verify_mode == ssl.CERT_REQUIRED,
                  "aiohttp_checks_names": c._SSL_CONTEXT_VERIFIED.check_hostname,
                  "later_context_cas": ca(ssl.create_default_context())}))
"""


def test_admin_import_skips_the_ca_store_and_tls_fails_closed():
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                         text=True).stdout
    got = json.loads(out)
    assert got["aiohttp_cas"] == 0, "aiohttp's default TLS context loaded the CA store (~3 MB)"
    # With no CA trusted, a TLS connection on aiohttp's defaults cannot be verified: refused.
    assert got["aiohttp_verifies"] and got["aiohttp_checks_names"]
    assert got["later_context_cas"] > 0, "any other TLS context must load the CA store as usual"

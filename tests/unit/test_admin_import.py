"""The runtime imports the admin UI's aiohttp without aiohttp's client half and without TLS
(memory, start-up time): the client still works once asked for, an https request from the
runtime's aiohttp fails before it connects (closed, not open), and nothing else loses TLS."""
import json
import subprocess
import sys

# In `apaf run`'s order (apaf.cli.main): ssl deferred, then the admin UI, then what the
# reachability test does (aiohttp's client through aiohttp_socks).
PROBE = """
import json, os, sys
os.environ["http_proxy"] = "http://127.0.0.1:9/"
from apaf import lazy_ssl
asyncio = lazy_ssl.defer_ssl()
import apaf.admin
got = {"client_at_start": sorted(m for m in ("aiohttp.client", "aiohttp.connector", "aiohttp.cookiejar")
                                 if m in sys.modules),
       "openssl_ssl_at_start": lazy_ssl.loaded(),
       "urllib_request_at_start": "urllib.request" in sys.modules,
       "html_at_start": "html" in sys.modules,
       "mime_table_at_start": sys.modules["mimetypes"].inited}
import aiohttp
from aiohttp import web
from aiohttp_socks import ProxyConnector

async def https_attempt():
    connected = []
    server = await asyncio.start_server(lambda r, w: connected.append(w.close()), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{port}/") as resp:
                error = f"answered {resp.status}"
    except Exception as err:
        error = type(err).__name__
    server.close()
    return error, len(connected)

got["https_error"], got["https_connections"] = asyncio.run(https_attempt())
import aiohttp.helpers, aiohttp.web_protocol
got["escaped"] = aiohttp.web_protocol.html_escape("<script>")  # aiohttp's error pages
import mimetypes, aiohttp.web_fileresponse
got["types"] = [mimetypes.guess_type("a.css")[0], aiohttp.web_fileresponse.CONTENT_TYPES.guess_type("a.svg")[0]]
got["env_proxies"] = {k: str(v.proxy) for k, v in aiohttp.helpers.proxies_from_env().items()}
import ssl
got.update(session=aiohttp.ClientSession.__module__, version=aiohttp.__version__,
           web_app=web.Application is aiohttp.web.Application,
           later_context_cas=ssl.create_default_context().cert_store_stats()["x509_ca"])
print(json.dumps(got))
"""


def probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def test_admin_import_leaves_out_aiohttps_client_and_tls_until_used():
    got = probe()
    assert got["client_at_start"] == [], "aiohttp's client was imported with the admin UI (~1.8 MB)"
    assert got["openssl_ssl_at_start"] is False, "the ssl module (libssl) was loaded at start (~1.4 MB)"
    assert got["urllib_request_at_start"] is False, "urllib.request and http.client came back (~0.6 MB)"
    assert got["html_at_start"] is False, "html and its entity table came back (~0.5 MB)"
    assert got["mime_table_at_start"] is False, "mimetypes' global table was built at start (~0.45 MB)"
    assert got["types"] == ["text/css", "image/svg+xml"]  # both tables answer once asked
    assert got["session"] == "aiohttp.client" and got["web_app"]
    # What aiohttp.helpers took from urllib.request by name still answers: proxies from the environment.
    assert got["env_proxies"] == {"http": "http://127.0.0.1:9/"}
    assert got["escaped"] == "&lt;script&gt;"
    from importlib.metadata import version
    assert got["version"] == version("aiohttp")  # the Server header's version, read before __init__ ran


def test_https_through_the_runtimes_aiohttp_fails_closed_and_other_tls_works():
    got = probe()
    assert got["https_connections"] == 0 and got["https_error"] != "", got
    assert not got["https_error"].startswith("answered"), got
    assert got["later_context_cas"] > 0, "any other TLS context must load the CA store as usual"

"""apaf.lazy_ssl: asyncio imported without OpenSSL, and TLS through asyncio still working."""
import json
import shutil
import subprocess
import sys

import pytest

# A TLS echo over loopback through asyncio (server and client), in a fresh interpreter whose
# asyncio came from import_asyncio(); it prints which steps loaded ssl.
PROBE = r"""
import socket, sys
from apaf.lazy_ssl import import_asyncio
asyncio = import_asyncio()
steps = {"import": "ssl" in sys.modules}

async def plain():
    a, b = socket.socketpair()
    a.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(a, b"x")  # asks isinstance(sock, ssl.SSLSocket)
    a.close(); b.close()

async def tls(cert, key):
    import ssl
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=cert)

    async def echo(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                                   server_hostname="localhost")
    writer.write(b"hello over tls\n")
    line = await reader.readline()
    writer.close()
    server.close()
    return line

asyncio.run(plain())
steps["plain"] = "ssl" in sys.modules
print(steps["import"], steps["plain"], asyncio.run(tls(sys.argv[1], sys.argv[2])).decode().strip())
"""


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a test certificate")
def test_asyncio_loads_ssl_only_for_tls_and_tls_still_works(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-P", "-c", PROBE, str(cert), str(key)], check=True,
                         capture_output=True, text=True, timeout=60).stdout.strip().split(None, 2)
    assert out == ["False", "False", "hello over tls"]


def test_asyncio_already_imported_is_left_alone():
    out = subprocess.run([sys.executable, "-P", "-c", "import asyncio, sys\nfrom apaf.lazy_ssl import "
                          "import_asyncio\nprint(import_asyncio() is asyncio, 'ssl' in sys.modules)"],
                         check=True, capture_output=True, text=True).stdout.split()
    assert out == ["True", "True"]


def test_deferred_ssl_is_loaded_at_first_use_and_given_to_the_modules_that_imported_it():
    probe = ("import sys\nfrom apaf import lazy_ssl\nlazy_ssl.defer_ssl()\n"
             "import http.client, urllib.request, stem.socket\n"
             "before = lazy_ssl.loaded()\n"
             "from ssl import SSLContext, PROTOCOL_TLS_CLIENT\n"
             "import ssl\n"
             "print(before, lazy_ssl.loaded(), stem.socket.ssl is ssl is sys.modules['ssl'],\n"
             "      http.client.ssl is ssl, hasattr(http.client, 'HTTPSConnection'),\n"
             "      isinstance(SSLContext(PROTOCOL_TLS_CLIENT), ssl.SSLContext))")
    out = subprocess.run([sys.executable, "-P", "-c", probe], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == ["False", "True", "True", "True", "True", "True"]


def test_deferred_hashlib_gives_the_same_digests_without_openssl():
    probe = ("import json, sys\nfrom apaf import lazy_ssl\nlazy_ssl.defer_hashlib()\n"
             "import hashlib, hmac, secrets\n"
             "maps = lambda: 'libcrypto' in open('/proc/self/maps').read()\n"
             "got = {'sha256': hashlib.sha256(b'abc').hexdigest(),\n"
             "       'hmac': hmac.new(b'key', b'The quick brown fox jumps over the lazy dog', 'sha256').hexdigest(),\n"
             "       'same': hmac.compare_digest(b'a', b'a') and not hmac.compare_digest(b'a', b'b'),\n"
             "       'token': len(secrets.token_bytes(16))}\n"
             "got.update(openssl=sys.modules.get('_hashlib') is not None, maps=maps(),\n"
             "           scrypt=hasattr(hashlib, 'scrypt'))\n"
             "print(json.dumps(got))")
    got = json.loads(subprocess.run([sys.executable, "-P", "-c", probe], check=True,
                                    capture_output=True, text=True).stdout)
    assert got["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert got["hmac"] == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert got["same"] and got["token"] == 16
    assert not got["openssl"] and not got["maps"], "OpenSSL's libcrypto was loaded (~3.5 MB)"
    # Only OpenSSL has it: the admin password's scrypt runs in a child (apaf/scrypt_child.py).
    assert not got["scrypt"]

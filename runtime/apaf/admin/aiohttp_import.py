"""Import aiohttp without the system CA store it reads at import: the runtime needs none.

aiohttp.connector builds its two default TLS client contexts when it is imported, and each
reads the system's CA bundle: ~3 MB of the runtime's memory and 0.1 s of its start (0.5 s
on a loaded machine), before the admin UI can answer. The runtime process makes no TLS
connection: the admin UI is plain HTTP on loopback, and the reachability test fetches
http:// from a .onion through Tor. So here those two contexts hold no CA, and a TLS
connection made with aiohttp's defaults in the runtime process fails verification: closed,
never open. Every other SSLContext, and every app process, loads the CA store as usual.
"""
from __future__ import annotations

import ssl
import sys


def import_aiohttp() -> None:
    if "aiohttp" in sys.modules:  # imported already (with its CA store): nothing to save
        return
    own = vars(ssl.SSLContext).get("set_default_verify_paths")
    ssl.SSLContext.set_default_verify_paths = lambda self: None
    try:
        import aiohttp.connector  # noqa: F401
    finally:
        if own is None:
            del ssl.SSLContext.set_default_verify_paths  # the inherited C method again
        else:
            ssl.SSLContext.set_default_verify_paths = own

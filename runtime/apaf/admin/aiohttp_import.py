"""Import aiohttp.web for the runtime without aiohttp's client half and without a CA store.

The client half: aiohttp's package `__init__` imports the whole client (ClientSession,
connector, cookie jar, tracing, multipart writer, resolver, ...) for its top-level names;
aiohttp.web needs none of it. Here the package stays uninitialised while aiohttp.web and
its modules are imported (~1.8 MB less RSS in the runtime, issue 15). The first time any
top-level name is asked for (`aiohttp.ClientSession`, `from aiohttp import TCPConnector`,
which the reachability test does through aiohttp_socks), the real `__init__` runs in the
same module object, so every name is there from then on, as with a plain `import aiohttp`.
Only `__version__` is needed earlier (aiohttp.http's Server header): read from the package's
own code, not copied here. Three more things aiohttp.web loads for paths the runtime seldom
takes wait for their first use: urllib.request (proxies from the environment, for the
client), html (escaping on error pages) and mimetypes' global table (~1.5 MB in all).

Without TLS: aiohttp is imported, both halves, while `import ssl` fails (apaf.lazy_ssl's
hidden_ssl), so it takes this process for a Python without ssl: no default TLS client
contexts, hence no CA store read (~3 MB, 0.1 s), and no OpenSSL ssl half loaded for it
(~1.4 MB; libcrypto stays out too: apaf.lazy_ssl.defer_hashlib, apaf/scrypt_child.py). The
runtime process makes no TLS connection: the admin UI is plain HTTP on loopback, and the
reachability test fetches http:// from a .onion through Tor. An https request through the
runtime's aiohttp fails before it connects: closed, never open. App processes import
aiohttp as usual.
"""
from __future__ import annotations

import dis
import importlib
import importlib.util
import sys
import threading

from apaf.lazy_ssl import hidden_ssl
from apaf.stand_ins import stand_in, withdraw

_finishing = threading.Lock()


def import_aiohttp() -> None:
    if "aiohttp" in sys.modules:  # imported already (with its client, maybe TLS): nothing to save
        return
    spec = importlib.util.find_spec("aiohttp")
    package = importlib.util.module_from_spec(spec)
    version = _version(spec)
    if version is None:  # an aiohttp whose __init__ no longer looks as expected: the plain way
        with hidden_ssl():
            importlib.import_module("aiohttp")
        return

    def finish(name: str):
        # Names of submodules not imported yet must stay missing: the import system asks
        # hasattr(aiohttp, "web") before it imports aiohttp.web for `from aiohttp import web`.
        if importlib.util.find_spec(f"aiohttp.{name}") is not None:
            raise AttributeError(name)
        with _finishing:
            if vars(package).get("__getattr__") is finish:
                del package.__getattr__
                with hidden_ssl():
                    spec.loader.exec_module(package)
        return getattr(package, name)

    package.__version__ = version
    package.__getattr__ = finish  # PEP 562: asked only for names the module lacks
    sys.modules["aiohttp"] = package
    # aiohttp.web_fileresponse builds its own MimeTypes() from Python's built-in table, and a
    # MimeTypes() made before mimetypes' global table first builds that one too, reading
    # /etc/mime.types (~0.45 MB). mimetypes' functions build the global table when first
    # called (they check the table, not `inited`): its memory is spent then, if ever.
    import mimetypes

    table_deferred = not mimetypes.inited
    mimetypes.inited = True
    try:
        with hidden_ssl():
            # aiohttp.helpers takes these two by name for the client's proxy-from-environment
            # (trust_env): urllib.request, with http.client, only once one is called (~0.6 MB).
            stand_in(("urllib.request",), forward=("getproxies", "proxy_bypass"))
            # html.escape, for aiohttp's error pages and directory listings: html, with its
            # table of 2,231 entities, only once one is made (~0.5 MB).
            stand_in(("html",), forward=("escape",))
            import aiohttp.web  # noqa: F401
    except BaseException:
        for name in [n for n in sys.modules if n == "aiohttp" or n.startswith("aiohttp.")]:
            del sys.modules[name]
        raise
    finally:
        withdraw()
        if table_deferred:
            mimetypes.inited = False


def _version(spec) -> str | None:
    """The string aiohttp's __init__ assigns to __version__ (its first statement)."""
    code = spec.loader.get_code("aiohttp")
    previous = None
    for ins in dis.get_instructions(code):
        if ins.opname == "STORE_NAME" and ins.argval == "__version__":
            ok = previous is not None and previous.opname == "LOAD_CONST" and isinstance(previous.argval, str)
            return previous.argval if ok else None
        previous = ins
    return None


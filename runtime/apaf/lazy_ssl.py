"""asyncio without the ssl module until something uses TLS: ~4 MB less in each app process.

Importing asyncio imports ssl, which loads OpenSSL (libssl, libcrypto: ~4.4 MB of resident
memory), for TLS transports an app process seldom makes: tor encrypts the onion service's
connections and an app speaks plain HTTP to it on 127.0.0.1. The static site never makes one.

`import_asyncio()` imports asyncio while ssl is hidden (asyncio's modules then hold
`ssl = None`, as on a Python built without it) and gives those modules a stand-in instead.
The stand-in imports the real ssl at its first use and hands it to them, so TLS through
asyncio (loop.create_connection(ssl=...), start_tls, aiohttp's https) works as before; only
the memory is spent later, by the processes that use it.

`defer_ssl()` (the runtime process, which makes no TLS connection at all) goes further: the
stand-in also answers every later `import ssl` until something uses it. stem.socket,
http.client and urllib.request import ssl but use it only inside functions the runtime never
calls (~1.4 MB of RSS: the ssl module, _ssl and libssl). `hidden_ssl()` imports modules that
take ssl's absence as "no TLS" (the runtime's aiohttp, apaf/admin/aiohttp_import.py).

`defer_hashlib()` (the runtime process) keeps OpenSSL's libcrypto out too (~3.5 MB of RSS):
hashlib and hmac, imported after it, use Python's built-in hashes (the same digests; hmac's
compare_digest stays constant-time). What only OpenSSL provides is then missing from hashlib:
the admin password's scrypt runs in a child process instead (apaf/scrypt_child.py).
"""
from __future__ import annotations

import contextlib
import sys
import threading
import types

# Held while ssl is hidden or being loaded: a first use in another thread waits for the
# hidden window to end instead of finding `import ssl` refused.
_lock = threading.RLock()


class _NoSSLSocket:
    """What the stand-in answers for ssl.SSLSocket while ssl is not loaded: asyncio only asks
    `isinstance(sock, ssl.SSLSocket)` (to refuse one), and without ssl no SSLSocket exists."""


class _SSLOnFirstUse(types.ModuleType):
    def __init__(self):
        super().__init__("ssl")

    def __getattr__(self, name: str):
        if name == "SSLSocket" and not loaded():
            return _NoSSLSocket  # asyncio's sock_sendall/sock_sendfile check: no need to load
        if name == "__path__":
            # ssl is a module, not a package; `from ssl import x` asks for this first, and
            # the answer is the same whether ssl is loaded or not.
            raise AttributeError(name)
        return getattr(_wire(self), name)


def loaded() -> bool:
    """Whether the real ssl module (and OpenSSL with it) is loaded in this process."""
    return "_ssl" in sys.modules


def _wire(stand_in: _SSLOnFirstUse) -> types.ModuleType:
    with _lock:
        if sys.modules.get("ssl") is stand_in:
            del sys.modules["ssl"]
        import ssl

        # vars(), not getattr(): a module's own __getattr__ (PEP 562) must not run for this.
        holders = [m for m in list(sys.modules.values())
                   if isinstance(m, types.ModuleType) and vars(m).get("ssl") is stand_in]
    for module in holders:
        module.ssl = ssl
        # asyncio.sslproto defines this one only when it finds ssl at import (3.11 to 3.13).
        # Set here rather than by reloading the module: the first use may come from inside
        # its SSLProtocol.__init__, which must keep seeing the classes it started with.
        if module.__name__ == "asyncio.sslproto" and not hasattr(module, "SSLAgainErrors"):
            module.SSLAgainErrors = (ssl.SSLWantReadError, ssl.SSLSyscallError)
    return ssl


def import_asyncio() -> types.ModuleType:
    """asyncio; without ssl loaded if neither was imported yet (else simply asyncio)."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        import asyncio
        return asyncio
    sys.modules["ssl"] = None  # `import ssl` raises ImportError: asyncio takes ssl = None
    try:
        import asyncio
    finally:
        del sys.modules["ssl"]
    waiting = [m for name, m in list(sys.modules.items())
               if name.startswith("asyncio.") and getattr(m, "ssl", False) is None]
    stand_in = _stand_in()
    for module in waiting:
        module.ssl = stand_in
    return asyncio


_the_stand_in: _SSLOnFirstUse | None = None
_ABSENT = object()


def _stand_in() -> _SSLOnFirstUse:
    global _the_stand_in
    if _the_stand_in is None:
        _the_stand_in = _SSLOnFirstUse()
    return _the_stand_in


def defer_ssl() -> types.ModuleType:
    """asyncio as import_asyncio() gives it, and every later `import ssl` answered by the
    stand-in until ssl is first used. For a process that makes no TLS connection."""
    asyncio = import_asyncio()
    if "ssl" not in sys.modules:
        sys.modules["ssl"] = _stand_in()
    return asyncio


def defer_hashlib() -> None:
    """Before anything imports hashlib or hmac: they use Python's built-in hashes and never
    load OpenSSL's libcrypto (else this does nothing). hashlib.scrypt is then absent."""
    if not any(name in sys.modules for name in ("hashlib", "hmac", "_hashlib")):
        sys.modules["_hashlib"] = None  # `import _hashlib` fails: both fall back, by design


@contextlib.contextmanager
def hidden_ssl():
    """Within: `import ssl` raises ImportError (even where ssl is loaded), as on a Python
    built without it; outside, the import answers as before."""
    with _lock:
        before = sys.modules.get("ssl", _ABSENT)
        sys.modules["ssl"] = None
        try:
            yield
        finally:
            if before is _ABSENT:
                del sys.modules["ssl"]
            else:
                sys.modules["ssl"] = before

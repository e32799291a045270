"""asyncio without the ssl module until something uses TLS: ~4 MB less in each app process.

Importing asyncio imports ssl, which loads OpenSSL (libssl, libcrypto: ~4.4 MB of resident
memory), for TLS transports an app process seldom makes: tor encrypts the onion service's
connections and an app speaks plain HTTP to it on 127.0.0.1. The static site never makes one.

`import_asyncio()` imports asyncio while ssl is hidden (asyncio's modules then hold
`ssl = None`, as on a Python built without it) and gives those modules a stand-in instead.
The stand-in imports the real ssl at its first use and hands it to them, so TLS through
asyncio (loop.create_connection(ssl=...), start_tls, aiohttp's https) works as before; only
the memory is spent later, by the processes that use it.
"""
from __future__ import annotations

import sys
import types


class _NoSSLSocket:
    """What the stand-in answers for ssl.SSLSocket while ssl is not loaded: asyncio only asks
    `isinstance(sock, ssl.SSLSocket)` (to refuse one), and without ssl no SSLSocket exists."""


class _SSLOnFirstUse(types.ModuleType):
    def __init__(self, modules: list[types.ModuleType]):
        super().__init__("ssl")
        self._modules = modules

    def __getattr__(self, name: str):
        if name == "SSLSocket" and "ssl" not in sys.modules:
            return _NoSSLSocket  # asyncio's sock_sendall/sock_sendfile check: no need to load
        return getattr(_wire(self._modules), name)


def _wire(modules: list[types.ModuleType]) -> types.ModuleType:
    import ssl

    for module in modules:
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
    stand_in = _SSLOnFirstUse(waiting)
    for module in waiting:
        module.ssl = stand_in
    return asyncio

"""APAF runtime, and the small library an app uses to live on Tor.

    apaf.onion_address()                 the app's own "<56 chars>.onion" (APAF_ONION_ADDRESS)
    apaf.tor_status()                    TorStatus(running, bootstrap, summary, version, socks)
    await apaf.open_connection(host, port)   asyncio (reader, writer) through Tor
    apaf.connect(host, port)             blocking socket through Tor
    apaf.http_session()                  aiohttp.ClientSession through Tor
    apaf.proxy_url()                     "socks5://IP:PORT" for other libraries (use remote DNS)
    apaf.binary("gpg")                   path of a program from the manifest's extra_binaries
    apaf.listening_socket()              the app's listening socket, held by the runtime
                                         (apps cannot bind a port, not even APAF_PORT)

Everything goes through the runtime's tor SOCKS port (APAF_SOCKS) with remote name
resolution: host names, onion or not, are never resolved on this machine. Outside the
runtime (no APAF_* variables) these raise `apaf.errors.NotUnderRuntime` saying what to set.
"""
from apaf.binaries import binary
from apaf.errors import NotUnderRuntime
from apaf.status import TorStatus, onion_address, tor_status

_CLIENT = frozenset({"connect", "http_session", "open_connection", "proxy_url"})


def __getattr__(name: str):
    # aiohttp and the SOCKS libraries cost ~0.3 s and ~15 MB to import: only code that
    # connects out through Tor pays for them (the runtime, the farm and static sites do not).
    if name in _CLIENT:
        from apaf import client
        return getattr(client, name)
    if name == "listening_socket":
        from apaf.listen import listening_socket
        return listening_socket
    raise AttributeError(f"module 'apaf' has no attribute {name!r}")

__all__ = [
    "NotUnderRuntime", "TorStatus", "binary", "connect", "http_session", "listening_socket", "onion_address",
    "open_connection", "proxy_url", "tor_status",
]

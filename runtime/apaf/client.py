"""Connections and HTTP over Tor for apps: SOCKS5 with remote name resolution only.

Every function goes through the runtime's tor SOCKS port (APAF_SOCKS) and hands the host
name to tor as is: nothing is ever resolved locally, so no DNS query leaves the machine.
Failures raise python-socks' errors: `ProxyConnectionError` (an OSError: the SOCKS port
does not answer), `ProxyError` (tor could not reach the destination; `.error_code` is the
SOCKS reply code) and `ProxyTimeoutError` (a TimeoutError); a missing APAF_SOCKS raises
`apaf.errors.NotUnderRuntime`.
"""
from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp_socks import ProxyConnector
from python_socks.async_.asyncio import Proxy as AsyncProxy
from python_socks.sync import Proxy as SyncProxy

from apaf import appenv

# Reaching an onion service the first time can take tens of seconds (descriptor fetch,
# introduction, rendezvous); tor itself gives up on a stream after about two minutes.
DEFAULT_TIMEOUT = 120.0


def proxy_url() -> str:
    """"socks5://IP:PORT" of the runtime's tor, for libraries that take a proxy URL
    (use it with remote DNS: e.g. aiohttp-socks `rdns=True`, curl `--socks5-hostname`)."""
    host, port = appenv.socks_address()
    return f"socks5://[{host}]:{port}" if ":" in host else f"socks5://{host}:{port}"


async def open_connection(host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT, **kwargs):
    """Like `asyncio.open_connection(host, port)`, through Tor: returns (reader, writer).

    `timeout` bounds setting up the connection; other keyword arguments (`ssl`,
    `server_hostname`, `limit`) go to `asyncio.open_connection`.
    """
    proxy = AsyncProxy.from_url(proxy_url(), rdns=True)
    sock = await proxy.connect(dest_host=host, dest_port=int(port), timeout=timeout)
    return await asyncio.open_connection(sock=sock, **kwargs)


def connect(host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
    """Like `socket.create_connection((host, port))`, through Tor: a connected blocking socket.

    The socket keeps `timeout` for later reads and writes; change it with `settimeout()`.
    """
    proxy = SyncProxy.from_url(proxy_url(), rdns=True)
    return proxy.connect(dest_host=host, dest_port=int(port), timeout=timeout)


def http_session(**kwargs) -> aiohttp.ClientSession:
    """An `aiohttp.ClientSession` whose every request goes through Tor (remote DNS).

    Call it inside a coroutine: `async with apaf.http_session() as s: await s.get(url)`.
    Keyword arguments go to ClientSession, except `connector`, which this function owns.
    """
    if "connector" in kwargs:
        raise TypeError("http_session() makes its own connector (the runtime's Tor SOCKS port); "
                        "pass the other ClientSession arguments only")
    connector = ProxyConnector.from_url(proxy_url(), rdns=True)
    return aiohttp.ClientSession(connector=connector, **kwargs)

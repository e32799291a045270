"""Only the account that runs apaf may use the admin UI's one-time links.

The link the browser is opened on (``/open/…``) travels on a command line, which every
local account can read in /proc; the first-boot and owner links let a browser in
without the password too.  So these routes ask the platform who owns the other end of
the loopback connection (apaf.sandbox ``loopback_peer_uid``) and refuse any other
account, without using the link up: the owner's browser, coming second, still gets in.

Root is let through: it can read the runtime's memory and files anyway, so refusing it
would protect nothing.  Where the platform cannot tell (macOS, Windows: None), the link
is let through as before: refusing there would break opening the browser for everyone,
and a second account still has to win a race against the owner's browser; the password
login is unaffected either way.  On Linux a peer that cannot be found (its socket
already closed) is refused.
"""
from __future__ import annotations

import asyncio
import functools
import os

from aiohttp import web

from apaf.sandbox import platform_module

REFUSED = ("This link works only for the user account apaf runs as, and this request "
           "came from another account on this computer. It has not been used up: open it "
           "from the account that started apaf.")


def peer_allowed(server: tuple | None, peer: tuple | None, lookup=None) -> bool:
    """Whether the connection from ``peer`` to ``server`` may use a one-time link."""
    if server is None or peer is None:
        return False
    lookup = lookup or platform_module().loopback_peer_uid
    try:
        uid = lookup(server, peer)
    except LookupError:
        return False
    return uid is None or uid in (0, os.geteuid())


def owner_only(handler):
    """Decorate a view: a request from another local account gets 403 and the view is not run."""
    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        server = transport.get_extra_info("sockname") if transport else None
        peer = transport.get_extra_info("peername") if transport else None
        # A thread: /proc/net/tcp is one row per socket on the machine.
        if not await asyncio.to_thread(peer_allowed, server, peer):
            raise web.HTTPForbidden(text=REFUSED)
        return await handler(request)
    return view

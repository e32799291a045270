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

Each refusal is a warning in the runtime's log (its terminal) and a line on the status page:
which link, which account, when. The owner learns that another account read the link, which
a 403 alone would keep from them.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import time

from aiohttp import web

from apaf.sandbox import platform_module

from .keys import REFUSED_LINKS

log = logging.getLogger("apaf.admin")

REFUSED = ("This link works only for the user account apaf runs as, and this request "
           "came from another account on this computer. It has not been used up: open it "
           "from the account that started apaf.")


def refused_account(server: tuple | None, peer: tuple | None, lookup=None) -> str | None:
    """Who is refused a one-time link on the connection from ``peer`` to ``server`` (for the
    owner's log: "uid 1001 (bob)"); None when the link may be used."""
    if server is None or peer is None:
        return "an account apaf could not identify (no peer address)"
    lookup = lookup or platform_module().loopback_peer_uid
    try:
        uid = lookup(server, peer)
    except LookupError:
        return "an account apaf could not identify (its connection was gone from the kernel's table)"
    if uid is None or uid in (0, os.geteuid()):
        return None
    try:
        import pwd  # only on POSIX; the only platform that names a peer's uid is Linux
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def peer_allowed(server: tuple | None, peer: tuple | None, lookup=None) -> bool:
    """Whether the connection from ``peer`` to ``server`` may use a one-time link."""
    return refused_account(server, peer, lookup) is None


KEEP = 20  # refusals the status page lists; the log has them all


def report_refusal(path: str, account: str, shown: list | None = None) -> None:
    """One warning line for the owner, and an entry in `shown` (the status page's list); the
    link's token is left out (it still works)."""
    link = path.rsplit("/", 1)[0] + "/…"
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if shown is not None:
        shown.append({"link": link, "account": account, "when": when})
        del shown[:-KEEP]
    log.warning("refused the one-time link %s to %s at %s: only the account apaf runs as may use "
                "it, so another account on this computer read it (from a browser's command "
                "line?); it has not been used up and still works for you", link, account, when)


def owner_only(handler):
    """Decorate a view: a request from another local account gets 403 and the view is not run."""
    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        server = transport.get_extra_info("sockname") if transport else None
        peer = transport.get_extra_info("peername") if transport else None
        # A thread: /proc/net/tcp is one row per socket on the machine.
        account = await asyncio.to_thread(refused_account, server, peer)
        if account is not None:
            # The route's own path, not the request's: a token with an encoded "/" would put
            # decoded control characters (terminal escapes, new lines) into the owner's log.
            report_refusal(request.match_info.route.resource.canonical, account,
                           request.app.get(REFUSED_LINKS))
            raise web.HTTPForbidden(text=REFUSED)
        return await handler(request)
    return view

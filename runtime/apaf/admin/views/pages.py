"""Read-only pages: landing redirect, bootstrap progress, status, the JSON status, splash."""
from __future__ import annotations

import mimetypes

from aiohttp import web

from ..keys import CONTROL, FIRST_RUN, REFUSED_LINKS
from ..render import redirect, render

SPLASH_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


async def index(request: web.Request) -> web.StreamResponse:
    status = await request.app[CONTROL].status()
    bootstrapped = status["tor"].get("bootstrap", 0) >= 100
    raise redirect(request, "status" if bootstrapped else "bootstrap")


async def bootstrap(request: web.Request) -> web.StreamResponse:
    status = await request.app[CONTROL].status()
    has_splash = request.app[CONTROL].splash_image() is not None
    return render(request, "bootstrap.html", status=200, tor=status["tor"],
                  has_splash=has_splash)


async def status_page(request: web.Request) -> web.StreamResponse:
    status = await request.app[CONTROL].status()
    return render(request, "status.html", s=status, setup_done=request.app[FIRST_RUN].done(),
                  refused_links=request.app[REFUSED_LINKS])


async def status_json(request: web.Request) -> web.StreamResponse:
    """What the page script polls for live updates."""
    return web.json_response(await request.app[CONTROL].status())


async def splash(request: web.Request) -> web.StreamResponse:
    path = request.app[CONTROL].splash_image()
    ctype = mimetypes.guess_type(str(path))[0] if path else None
    # Only raster images: an SVG could carry script if opened directly.
    if path is None or ctype not in SPLASH_TYPES or not path.is_file():
        raise web.HTTPNotFound(text="No splash image.")
    return web.FileResponse(path, headers={"Content-Type": ctype})

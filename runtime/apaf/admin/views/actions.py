"""State-changing actions: start/stop the onion service, choose apps, reachability, torrc, quit.

Each is a plain form POST answered with a redirect (or the form again with the
error), so everything works without JavaScript.
"""
from __future__ import annotations

from aiohttp import web

from ...errors import ApafError, TorrcRejected
from ...tor import policy
from ..keys import CONTROL
from ..render import flash, redirect, render

TORRC_MAX_BYTES = 64 * 1024


async def _switch_service(request: web.Request, on: bool) -> web.StreamResponse:
    control = request.app[CONTROL]
    verb = "start" if on else "stop"
    try:
        await (control.start_service() if on else control.stop_service())
        flash(request, "ok", f"Onion service {verb}{'ed' if on else 'ped'}.")
    except ApafError as err:
        flash(request, "error", f"Could not {verb} the onion service: {err}")
    raise redirect(request, "status")


async def service_start(request: web.Request) -> web.StreamResponse:
    return await _switch_service(request, True)


async def service_stop(request: web.Request) -> web.StreamResponse:
    return await _switch_service(request, False)


async def reachability(request: web.Request) -> web.StreamResponse:
    name = str((await request.post()).get("app", ""))
    known = {a["name"] for a in request.app[CONTROL].available_apps()}
    if name not in known:
        flash(request, "error", "Unknown app: choose one from the list.")
        raise redirect(request, "status")
    result = await request.app[CONTROL].test_reachability(name)
    if result.get("ok"):
        flash(request, "ok", f"{name}: reachable through Tor in {result['seconds']:.1f} s.")
    else:
        flash(request, "error", f"{name}: not reachable after {result.get('seconds', 0):.1f} s"
                                f": {result.get('error') or 'unknown error'}")
    raise redirect(request, "status")


async def apps_form(request: web.Request) -> web.StreamResponse:
    return render(request, "apps.html", apps=request.app[CONTROL].available_apps())


async def save_apps(request: web.Request, back: str) -> list[str]:
    """Run the ticked apps (the Apps page and the wizard); on a refusal, back to `back`."""
    names = [str(n) for n in (await request.post()).getall("app", [])]
    try:
        await request.app[CONTROL].set_enabled_apps(names)
    except ValueError as err:
        flash(request, "error", f"Apps not changed: {err}")
        raise redirect(request, back) from None
    return names


async def apps_save(request: web.Request) -> web.StreamResponse:
    names = await save_apps(request, "apps")
    chosen = ", ".join(names) if names else "none"
    flash(request, "ok", f"Apps saved. Running: {chosen}.")
    raise redirect(request, "apps")


async def quit_runtime(request: web.Request) -> web.StreamResponse:
    """Stop everything, as Ctrl-C would: started from a menu, there is no terminal for that."""
    request.app[CONTROL].quit()  # the runtime stops once this answer is on its way
    return render(request, "stopped.html")


async def torrc_form(request: web.Request) -> web.StreamResponse:
    text, error = request.app[CONTROL].torrc_extra(), None
    try:
        policy.check(text)
    except TorrcRejected as err:
        # Saved by an older runtime or edited by hand: the runtime started tor without it.
        error = f"Not in force: tor runs without these saved lines. {err}"
    return render(request, "torrc.html", text=text, error=error)


async def torrc_save(request: web.Request) -> web.StreamResponse:
    # Browsers send CRLF line ends from a textarea; tor wants plain lines.
    text = str((await request.post()).get("torrc", "")).replace("\r\n", "\n")
    error, note = None, None
    if len(text.encode("utf-8")) > TORRC_MAX_BYTES:
        error = f"Too long: at most {TORRC_MAX_BYTES // 1024} KiB of torrc lines."
    else:
        try:
            note = await request.app[CONTROL].apply_torrc_extra(text)
        except ApafError as err:  # refused, or tor restarting: either way nothing changed
            error = str(err)
    if error:
        # The old configuration stays in force; show the user's text to fix it.
        return render(request, "torrc.html", status=400, text=text,
                      error=f"Not applied: the previous configuration is still in "
                            f"force. {error}")
    flash(request, "ok", "Tor configuration applied: tor took it and reports the new values."
          + (f" {note}" if note else ""))
    raise redirect(request, "torrc")

"""The first-run wizard: what a double-clicked bundle shows its owner the first time.

The first-boot link (views/auth.first_boot) logs the browser in and lands on
``/welcome``; then, one page each: Tor's progress with the app's splash and the
generated password (shown once, with a copy button), which apps run, the tor2web
choice, and the .onion address to share.  Every step is a plain form POST
answered with a redirect (works without JavaScript, CSRF-checked like every
form); each choice is applied and saved by the runtime at once, so leaving
half-way loses nothing.  Finishing writes ``admin/first-run-done`` (firstrun.py):
from then on these pages redirect to the status page.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from .. import password as pw
from ..keys import CONTROL, FIRST_RUN, PASSWORDS, SESSION
from ..render import flash, redirect, render
from .actions import save_apps
from .auth import hash_failure

STEPS = [("welcome", "Connect and save your password"), ("wizard_apps", "Choose apps"),
         ("wizard_tor2web", "Tor2web"), ("wizard_share", "Share your address")]


def _page(request: web.Request, step: str, template: str, **context) -> web.Response:
    if request.app[FIRST_RUN].done():
        raise redirect(request, "status")
    return render(request, template, steps=STEPS, step=step, **context)


async def welcome(request: web.Request) -> web.StreamResponse:
    control, session = request.app[CONTROL], request[SESSION]
    status = await control.status()
    # Shown by this response only: a reload, or anyone later at this screen, sees no password.
    password, session.reveal = session.reveal, None
    return _page(request, "welcome", "wizard_welcome.html", tor=status["tor"],
                 has_splash=control.splash_image() is not None, password=password,
                 can_choose=session.first_run, min_length=pw.MIN_LENGTH)


async def choose_password(request: web.Request) -> web.StreamResponse:
    """The generated password was shown once and not saved: the first-run session sets one."""
    if not request[SESSION].first_run or request.app[FIRST_RUN].done():
        raise web.HTTPForbidden(text="Only the browser that opened the first-run link can set "
                                     "a password this way; use the Password page.")
    form = await request.post()
    new = str(form.get("new", ""))
    problem = pw.check_new(new, str(form.get("confirm", "")))
    if problem:
        flash(request, "error", f"Password not changed: {problem}")
    else:
        try:
            await asyncio.get_running_loop().run_in_executor(None, request.app[PASSWORDS].set, new)
        except pw.PasswordHashError as err:  # the hash is written only after it was made
            flash(request, "error", "Password not changed: " + hash_failure(
                err, "save the new password", "The previous password still works."))
            raise redirect(request, "welcome") from None
        flash(request, "ok", "Your new password is set: it is the one to log in with.")
    raise redirect(request, "welcome")


async def welcome_done(request: web.Request) -> web.StreamResponse:
    if (await request.post()).get("saved") != "yes":
        flash(request, "error", "Tick the box once your password is saved: without it you "
                                "cannot log in to this page again.")
        raise redirect(request, "welcome")
    raise redirect(request, "wizard_apps")


async def apps(request: web.Request) -> web.StreamResponse:
    return _page(request, "wizard_apps", "wizard_apps.html",
                 apps=request.app[CONTROL].available_apps())


async def apps_save(request: web.Request) -> web.StreamResponse:
    names = await save_apps(request, "wizard_apps")
    if not names:
        flash(request, "error", "No app runs now: nothing is published until you choose one "
                                "(Apps, in the menu above).")
    raise redirect(request, "wizard_tor2web")


async def tor2web(request: web.Request) -> web.StreamResponse:
    return _page(request, "wizard_tor2web", "wizard_tor2web.html",
                 allowed=request.app[CONTROL].tor2web_allowed())


async def tor2web_save(request: web.Request) -> web.StreamResponse:
    choice = (await request.post()).get("tor2web")
    if choice not in ("allow", "refuse"):
        flash(request, "error", "Choose one: refuse or allow tor2web visitors.")
        raise redirect(request, "wizard_tor2web")
    await request.app[CONTROL].set_tor2web(choice == "allow")
    raise redirect(request, "wizard_share")


async def share(request: web.Request) -> web.StreamResponse:
    status = await request.app[CONTROL].status()
    return _page(request, "wizard_share", "wizard_share.html",
                 apps=[a for a in status["apps"] if a["enabled"] and a["onion"]])


async def finish(request: web.Request) -> web.StreamResponse:
    request.app[FIRST_RUN].finish()
    flash(request, "ok", "Setup finished. This status page is what the admin address shows "
                         "from now on.")
    raise redirect(request, "status")

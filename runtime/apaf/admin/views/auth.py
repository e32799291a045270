"""Log in, log out, the first-boot one-time link and the password change.

The first-boot link starts the first-run wizard (views/wizard.py) until it is finished.
The one-time links (launch, first boot, owner) answer only the account apaf runs as (peer.py).

Password checks (login and password change) run one at a time under the
throttle's lock, in a thread (scrypt is CPU-bound), and count towards throttling.
A check whose scrypt child fails (``PasswordHashError``) is never a match and does not
count: the page says what failed (503) and the owner's terminal gets one warning line.
"""
from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web

from .. import password as pw
from ..keys import FIRST_BOOT, FIRST_RUN, LAUNCH, ORIGINS, PASSWORDS, SESSION, SESSIONS, THROTTLE
from ..peer import owner_only
from ..render import flash, redirect, render
from ..security import public
from ..throttle import SESSION_TRIES

log = logging.getLogger("apaf.admin")


def _set_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    response.set_cookie(request.app[ORIGINS].cookie, session_id, path="/",
                        httponly=True, samesite="Strict")


async def _check_password(request: web.Request, password: str) -> tuple[bool, int]:
    """(password right, seconds to wait); when throttled the password is not checked.
    A failing scrypt child raises ``PasswordHashError`` (never a match, not counted).

    A session that opened the owner link, or is logged in, skips the global delay
    for its first ``SESSION_TRIES`` wrong passwords (throttle.py says why).
    """
    throttle, session = request.app[THROTTLE], request[SESSION]
    exempt = session is not None and (session.owner_link or session.authenticated) \
        and session.wrong < SESSION_TRIES
    async with throttle.lock:
        wait = 0 if exempt else throttle.retry_after()
        if wait:
            return False, wait
        store = request.app[PASSWORDS]
        # A PasswordHashError goes up uncounted. Counting it would let a broken child (no
        # binary, out of memory, an overloaded machine's timeouts) turn the owner's retries
        # into the login delay; not counting it gives a guesser nothing: the child's answer
        # was never compared, so the try said nothing about the password, and the wait
        # above was already enforced before the child started.
        ok = await asyncio.get_running_loop().run_in_executor(None, store.check, password)
        if not ok:
            # Counted even for the owner's typos: a success never empties the bucket.
            throttle.failed()
            if exempt:
                session.wrong += 1
        return ok, 0


def _throttled(request: web.Request, template: str, wait: int, **context) -> web.Response:
    response = render(request, template, status=429, **context, error=(
        f"Too many wrong passwords: wait {wait} seconds, then try again. If someone "
        "else is guessing, open the owner link apaf printed in its terminal: it lets "
        "you log in without waiting."))
    response.headers["Retry-After"] = str(wait)
    return response


NOT_COUNTED = "This try does not count as a wrong password."


def hash_failure(err: pw.PasswordHashError, doing: str, outcome: str) -> str:
    """What the page says when the scrypt child failed (its own words); one warning line for
    the owner's terminal."""
    log.warning("could not %s: %s", doing, err)
    return (f"apaf could not {doing}: {str(err).rstrip('.')}. {outcome} Try again in a moment; "
            "if it keeps failing, the terminal where apaf runs says more (restarting apaf may help).")


def _hash_failed(request: web.Request, template: str, err: pw.PasswordHashError,
                 doing: str, outcome: str, **context) -> web.Response:
    """The page again, 503, saying what failed."""
    return render(request, template, status=503, **context, error=hash_failure(err, doing, outcome))


@public
async def login_form(request: web.Request) -> web.StreamResponse:
    session = request[SESSION]
    if session is not None and session.authenticated:
        raise redirect(request, "index")
    if session is None:
        # An anonymous session only to carry the login form's CSRF token.
        request[SESSION] = session = request.app[SESSIONS].new()
    response = render(request, "login.html", error=None, owner_link=session.owner_link)
    _set_cookie(request, response, session.id)
    return response


@public
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        ok, wait = await _check_password(request, str(form.get("password", "")))
    except pw.PasswordHashError as err:
        return _hash_failed(request, "login.html", err, "check the password", NOT_COUNTED,
                            owner_link=request[SESSION] is not None and request[SESSION].owner_link)
    if wait:
        return _throttled(request, "login.html", wait)
    if not ok:
        return render(request, "login.html", status=403, error="Wrong password.",
                      owner_link=request[SESSION] is not None and request[SESSION].owner_link)
    sessions = request.app[SESSIONS]
    sessions.drop(request[SESSION].id)  # new id after login: no session fixation
    request[SESSION] = sessions.new(authenticated=True)
    boot = request.app.get(FIRST_BOOT)
    if boot is not None:  # the one-time link dies once the user has logged in
        boot.used, boot.password = True, None
    response = redirect(request, "index")
    _set_cookie(request, response, request[SESSION].id)
    raise response


@public
@owner_only
async def owner_link(request: web.Request) -> web.StreamResponse:
    """The link printed in the terminal when throttling engages: skip the delay once."""
    if not request.app[THROTTLE].owner_token_valid(request.match_info["token"]):
        raise web.HTTPNotFound(text="This owner link has already been used or is not "
                                    "valid. Use the newest one apaf printed in its terminal.")
    session = request[SESSION]
    if session is None or session.authenticated:
        request[SESSION] = session = request.app[SESSIONS].new()
    session.owner_link, session.wrong = True, 0
    response = render(request, "login.html", error=None, owner_link=True)
    _set_cookie(request, response, session.id)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app[SESSIONS].drop(request[SESSION].id)
    response = redirect(request, "login")
    response.del_cookie(request.app[ORIGINS].cookie, path="/")
    raise response


@public
@owner_only
async def launch(request: web.Request) -> web.StreamResponse:
    """The link the runtime opens the browser on: once, to the admin UI's secret address
    (the first-boot page while the generated password has not been shown)."""
    link = request.app[LAUNCH]
    if link.used or not hmac.compare_digest(request.match_info["token"].encode(), link.token.encode()):
        raise web.HTTPNotFound(text="This link has been used already. If your browser did not "
                                    "just use it, another program on this computer did: stop apaf, "
                                    "delete DATA_DIR/admin/password and start apaf again.")
    link.used = True
    origins, boot = request.app[ORIGINS], request.app.get(FIRST_BOOT)
    where = f"{origins.url}first-boot/{boot.token}" if boot and not boot.used else origins.url
    raise web.HTTPSeeOther(where)


@public
@owner_only
async def first_boot(request: web.Request) -> web.StreamResponse:
    boot = request.app.get(FIRST_BOOT)
    token = request.match_info["token"]
    if boot is None or boot.used or boot.password is None or \
            not hmac.compare_digest(token.encode(), boot.token.encode()):
        raise web.HTTPNotFound(text="This one-time link has already been used or is not "
                                    "valid. Use the password printed in the terminal.")
    password, boot.used, boot.password = boot.password, True, None
    sessions = request.app[SESSIONS]
    if not request.app[FIRST_RUN].done():
        # The first-run wizard.  This link is already as good as the password (it shows
        # it), so it logs this browser in: a new session (no fixation) that holds the
        # password until the wizard's first page has shown it, once.
        if request[SESSION] is not None:
            sessions.drop(request[SESSION].id)
        request[SESSION] = session = sessions.new(authenticated=True)
        session.reveal, session.first_run = password, True
        response = redirect(request, "welcome")
        _set_cookie(request, response, session.id)
        raise response
    # The wizard was finished before (a lost password was reset): just the new password.
    session = request[SESSION] or sessions.new()
    request[SESSION] = session
    response = render(request, "first_boot.html", password=password)
    _set_cookie(request, response, session.id)
    return response


async def password_form(request: web.Request) -> web.StreamResponse:
    return render(request, "password.html", error=None, min_length=pw.MIN_LENGTH)


async def password_change(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    new, confirm = str(form.get("new", "")), str(form.get("confirm", ""))
    problem = pw.check_new(new, confirm)
    if problem is None:
        try:
            ok, wait = await _check_password(request, str(form.get("current", "")))
        except pw.PasswordHashError as err:
            return _hash_failed(request, "password.html", err, "check the current password",
                                "The password was not changed. " + NOT_COUNTED,
                                min_length=pw.MIN_LENGTH)
        if wait:
            return _throttled(request, "password.html", wait, min_length=pw.MIN_LENGTH)
        problem = None if ok else "The current password is wrong."
    if problem:
        return render(request, "password.html", status=400, error=problem,
                      min_length=pw.MIN_LENGTH)
    try:  # hash_password runs before the atomic write: a failure keeps the old hash
        await asyncio.get_running_loop().run_in_executor(None, request.app[PASSWORDS].set, new)
    except pw.PasswordHashError as err:
        return _hash_failed(request, "password.html", err, "save the new password",
                            "The password was not changed: the current one still works.",
                            min_length=pw.MIN_LENGTH)
    # Every other session (another browser, a stolen cookie) ends with the old password.
    sessions = request.app[SESSIONS]
    sessions.drop_all()
    request[SESSION] = sessions.new(authenticated=True)
    flash(request, "ok", "Password changed. Other sessions have been logged out.")
    response = redirect(request, "status")
    _set_cookie(request, response, request[SESSION].id)
    raise response

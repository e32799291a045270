"""The admin password's scrypt runs in a child process (apaf/scrypt_child.py): the runtime never
maps OpenSSL's libcrypto, the password never shows in the child's command line or environment,
and a child that fails is an error, never a match."""
from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apaf.admin import password as pw
from apaf.admin.keys import PASSWORDS, THROTTLE
from apaf.admin.throttle import FREE

SECRET = "correct horse battery staple 7Qx"


def _children() -> list[int]:
    me, kids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and \
                    int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                kids.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def _while_checking(stored: str, act) -> tuple[object, object]:
    """Run ``pw.verify(SECRET, stored)`` in a thread; call ``act(pid)`` on the child it
    starts; return (what act returned, what verify returned or raised)."""
    before = set(_children())
    outcome: list = []

    def check():
        try:
            outcome.append(pw.verify(SECRET, stored))
        except Exception as err:  # the test looks at it
            outcome.append(err)

    thread = threading.Thread(target=check)
    thread.start()
    deadline, seen = time.monotonic() + 30, None
    while seen is None and time.monotonic() < deadline and thread.is_alive():
        new = set(_children()) - before
        if new:
            seen = act(new.pop())
        time.sleep(0.002)
    thread.join(60)
    assert seen is not None, "no scrypt child process was seen"
    return seen, outcome[0]


# A hash whose check takes several tenths of a second (p=6: six times the work, the same
# memory): long enough to look at the child.
@pytest.fixture(scope="module")
def slow_hash() -> str:
    salt = b"0123456789abcdef"
    key = pw._scrypt(SECRET, salt, 2**15, 8, 6, 32)
    return f"scrypt${2**15}$8$6${pw._b64(salt)}${pw._b64(key)}"


RFC7914 = ("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
           "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")


def test_rfc7914_vector_through_the_child():
    assert pw._scrypt("password", b"NaCl", 1024, 8, 16, 64).hex() == RFC7914


# What a frozen bundle runs for the child (`<bundle> --apaf-scrypt`): its entry point, and
# apaf.cli's dispatch of the same flag.
BUNDLE_MAIN = Path(__file__).resolve().parents[2] / "toolchains" / "recipes" / "freeze" / "bundle_main.py"


@pytest.mark.parametrize("entry", [[str(BUNDLE_MAIN)], ["-m", "apaf.cli"]], ids=["bundle_main", "cli"])
def test_the_bundle_entry_points_answer_the_scrypt_flag(entry):
    from apaf.scrypt_child import FLAG

    request = b"1024 8 16 0 64 " + b"NaCl".hex().encode() + b"\npassword"
    proc = subprocess.run([sys.executable, "-P", *entry, FLAG], input=request, capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == RFC7914


def test_the_runtime_hashes_and_checks_without_mapping_libcrypto(tmp_path):
    # In `apaf run`'s order: ssl and hashlib without OpenSSL (apaf.cli), then the first-boot
    # hash and a login (PasswordStore), then the process's own maps.
    probe = ("import json, sys\nfrom apaf import lazy_ssl\nlazy_ssl.defer_ssl()\n"
             "lazy_ssl.defer_hashlib()\n"
             "from apaf.admin.password import PasswordStore\n"
             f"store = PasswordStore({str(tmp_path)!r})\n"
             f"store.set_soon({SECRET!r}); store.wait()\n"
             f"got = {{'right': store.check({SECRET!r}), 'wrong': store.check('guess')}}\n"
             "got['libcrypto'] = 'libcrypto' in open('/proc/self/maps').read()\n"
             "print(json.dumps(got))")
    got = json.loads(subprocess.run([sys.executable, "-P", "-c", probe], check=True,
                                    capture_output=True, text=True, timeout=60).stdout)
    assert got == {"right": True, "wrong": False, "libcrypto": False}


def test_the_password_reaches_the_child_only_on_stdin(slow_hash, monkeypatch):
    monkeypatch.setenv("APAF_TEST_TOKEN", "a secret of the runtime's environment")

    def look(pid: int) -> tuple[bytes, bytes]:
        proc = Path(f"/proc/{pid}")
        return (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()

    (cmdline, environ), matched = _while_checking(slow_hash, look)
    assert matched is True
    assert b"scrypt_child" in cmdline  # it was the child, seen while it ran
    assert SECRET.encode() not in cmdline and SECRET.encode() not in environ
    # Only what a bundle's bootloaders need: nothing of the runtime's environment reaches it.
    names = {v.split(b"=", 1)[0] for v in environ.split(b"\0") if v}
    assert b"APAF_TEST_TOKEN" not in names and b"HOME" not in names and b"PATH" not in names


def test_a_killed_child_is_an_error_never_a_match(slow_hash):
    def kill(pid: int) -> int:
        os.kill(pid, signal.SIGKILL)
        return pid

    _, outcome = _while_checking(slow_hash, kill)
    assert isinstance(outcome, pw.PasswordHashError), outcome
    assert "killed by SIGKILL" in str(outcome)


def test_a_missing_or_late_child_is_an_error(monkeypatch, tmp_path):
    stored = pw.hash_password(SECRET)
    monkeypatch.setattr(pw, "child_command", lambda: [str(tmp_path / "no-such-python")])
    with pytest.raises(pw.PasswordHashError, match="cannot start"):
        pw.verify(SECRET, stored)
    monkeypatch.undo()
    monkeypatch.setattr(pw, "CHILD_TIMEOUT", 0.001)
    with pytest.raises(pw.PasswordHashError, match="did not answer"):
        pw.verify(SECRET, stored)


def test_a_child_answering_garbage_is_an_error(monkeypatch):
    stored = pw.hash_password(SECRET)
    monkeypatch.setattr(pw, "child_command", lambda: [sys.executable, "-c", "print('00' * 31)"])
    with pytest.raises(pw.PasswordHashError, match="not a 32-byte key"):
        pw.verify(SECRET, stored)


def test_a_failed_first_boot_hash_is_raised_by_wait_and_check(monkeypatch, tmp_path):
    monkeypatch.setattr(pw, "child_command", lambda: [sys.executable, "-c", "raise SystemExit(1)"])
    store = pw.PasswordStore(tmp_path)
    store.set_soon(SECRET)
    with pytest.raises(pw.PasswordHashError, match="exited with status 1"):
        store.wait()
    assert not store.path.exists()


# Through the real admin server: a failing child is a page that names it (503), never a
# session and never aiohttp's bare "500 Internal Server Error"; one warning line in the log.
ABORTING = [sys.executable, "-c", "import os; os.abort()"]
KILLED = "the admin password's scrypt process was killed by SIGABRT"


def _warnings(caplog) -> list[str]:
    """What the owner's terminal got from apaf and aiohttp (its 500s log a traceback)."""
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith(("apaf", "aiohttp"))]


async def _page(response) -> str:
    return html.unescape(await response.text())


async def test_the_login_page_names_a_failing_child_and_the_owner_is_not_throttled(admin, monkeypatch,
                                                                                  caplog):
    await asyncio.to_thread(admin.client.app[PASSWORDS].wait)  # the first boot's hash, by a working child
    monkeypatch.setattr(pw, "child_command", lambda: ABORTING)
    csrf = await admin.csrf()
    for _ in range(FREE + 2):  # more failures than the throttle lets pass without a delay
        r = await admin.post("/login", {"password": admin.first_boot_password}, csrf=csrf)
        page = await _page(r)
        assert r.status == 503 and "set-cookie" not in {k.lower() for k in r.headers}
        assert f"apaf could not check the password: {KILLED}. This try does not count as a " \
               "wrong password. Try again in a moment" in page, page
        assert 'id="login-error"' in page and 'action="/login"' in page  # the login page again
    assert (await admin.client.get("/status", allow_redirects=False)).status == 303  # logged out
    assert _warnings(caplog) == [f"could not check the password: {KILLED}"] * (FREE + 2)
    assert admin.client.app[THROTTLE].level() == 0
    monkeypatch.undo()  # the child works again: the owner gets in at once, no delay
    r = await admin.post("/login", {"password": admin.first_boot_password}, csrf=csrf)
    assert r.status == 303 and r.headers["Location"] != "/login"


async def test_a_failing_child_skips_no_login_delay(admin, monkeypatch, tmp_path):
    """A guesser who makes the child fail still waits: the delay is checked before it starts."""
    csrf = await admin.csrf()
    for _ in range(FREE + 1):
        assert (await admin.post("/login", {"password": "a wrong guess"}, csrf=csrf)).status == 403
    started = tmp_path / "started"
    monkeypatch.setattr(pw, "child_command", lambda: [
        sys.executable, "-c", f"open({str(started)!r}, 'a').write('x'); import os; os.abort()"])
    r = await admin.post("/login", {"password": "another guess"}, csrf=csrf)
    assert r.status == 429 and "Too many wrong passwords" in await _page(r)
    assert not started.exists(), "a child was started while the login delay was on"


async def _change_password(admin, csrf: str):
    """The owner, logged in, changes the first-boot password on the Password page."""
    new = "a brand new long password"
    r = await admin.post("/password", {"current": admin.first_boot_password, "new": new,
                                       "confirm": new}, csrf=csrf)
    return r, await _page(r)


async def test_the_password_change_names_a_failing_check(admin, monkeypatch, caplog):
    csrf = await admin.login()
    stored = (admin.data_dir / "admin" / "password").read_bytes()
    monkeypatch.setattr(pw, "child_command", lambda: ABORTING)
    r, page = await _change_password(admin, csrf)
    assert r.status == 503, page
    assert f"apaf could not check the current password: {KILLED}. The password was not changed. " \
           "This try does not count as a wrong password." in page
    assert 'id="password-error"' in page and 'action="/password"' in page
    assert _warnings(caplog) == [f"could not check the current password: {KILLED}"]
    assert (admin.data_dir / "admin" / "password").read_bytes() == stored
    assert (await admin.client.get("/status", allow_redirects=False)).status == 200  # still in
    assert admin.client.app[THROTTLE].level() == 0


async def test_the_password_change_names_a_child_failing_to_hash_the_new_one(admin, monkeypatch,
                                                                             caplog):
    csrf = await admin.login()
    path = admin.data_dir / "admin" / "password"
    stored = path.read_bytes()
    children = [pw.child_command(), ABORTING]  # the current password's check works, the new hash not
    monkeypatch.setattr(pw, "child_command", lambda: children.pop(0))
    r, page = await _change_password(admin, csrf)
    assert r.status == 503, page
    assert f"apaf could not save the new password: {KILLED}. The password was not changed: the " \
           "current one still works." in page
    assert _warnings(caplog) == [f"could not save the new password: {KILLED}"]
    assert children == [] and path.read_bytes() == stored
    monkeypatch.undo()
    admin.client.session.cookie_jar.clear()
    await admin.login()  # the first-boot password still opens the admin page


async def test_the_wizard_names_a_child_failing_to_hash_the_chosen_password(admin, monkeypatch,
                                                                            caplog):
    r = await admin.client.get(f"/first-boot/{admin.first_boot_token}", allow_redirects=False)
    assert (r.status, r.headers["Location"]) == (303, "/welcome")
    csrf = await admin.csrf("/welcome/apps")
    await asyncio.to_thread(admin.client.app[PASSWORDS].wait)
    stored = (admin.data_dir / "admin" / "password").read_bytes()
    monkeypatch.setattr(pw, "child_command", lambda: ABORTING)
    mine = "my own long password"
    r = await admin.post("/welcome/password", {"new": mine, "confirm": mine}, csrf=csrf)
    assert (r.status, r.headers["Location"]) == (303, "/welcome")
    page = await _page(await admin.client.get("/welcome"))
    assert f"Password not changed: apaf could not save the new password: {KILLED}. The previous " \
           "password still works. Try again in a moment" in page
    assert _warnings(caplog) == [f"could not save the new password: {KILLED}"]
    assert (admin.data_dir / "admin" / "password").read_bytes() == stored

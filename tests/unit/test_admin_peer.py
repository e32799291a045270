"""The one-time links answer only the account apaf runs as (apaf.admin.peer): another local
account that read the link from a browser's command line is refused without using it up."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
import urllib.parse

import pytest

from apaf.admin import serve
from apaf.admin.peer import peer_allowed
from apaf.sandbox import proc_net

from fixtures.admin_ui import RuntimeControlDouble

NOBODY = 65534
linux = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/net/tcp")


def _listener(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen()
    return server


@linux
@pytest.mark.parametrize("server_family, server_host, client_family, client_host, seen_as", [
    (socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1", "127.0.0.1"),
    # an IPv6 client reaching 127.0.0.1: found in tcp6, seen by the server as 127.0.0.1
    (socket.AF_INET, "127.0.0.1", socket.AF_INET6, "::ffff:127.0.0.1", "127.0.0.1"),
    (socket.AF_INET6, "::1", socket.AF_INET6, "::1", "::1"),  # an admin UI on IPv6 loopback
], ids=["ipv4", "ipv4-mapped", "ipv6"])
def test_the_owner_of_a_loopback_client_socket_is_found(server_family, server_host, client_family,
                                                         client_host, seen_as):
    if server_family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6")
    server = _listener(server_family, server_host)
    client = socket.socket(client_family, socket.SOCK_STREAM)
    client.connect((client_host, server.getsockname()[1]))
    accepted, peer = server.accept()
    try:
        assert peer[0] == seen_as
        assert proc_net.peer_uid(accepted.getsockname(), peer) == os.geteuid()
    finally:
        client.close(), accepted.close(), server.close()


@linux
def test_a_client_that_already_closed_is_not_taken_for_root():
    # Its socket lingers in the table as a row with uid 0: root, if it were believed.
    server = _listener()
    client = socket.create_connection(server.getsockname())
    accepted, peer = server.accept()
    client.close()
    try:
        with pytest.raises(LookupError):
            proc_net.peer_uid(accepted.getsockname(), peer)
    finally:
        accepted.close(), server.close()


def _raises(server, peer):
    raise LookupError("gone")


def test_who_may_use_a_one_time_link():
    here, there = ("127.0.0.1", 1), ("127.0.0.1", 2)
    assert peer_allowed(here, there, lambda s, p: os.geteuid())
    assert peer_allowed(here, there, lambda s, p: 0)                     # root: reads us anyway
    assert peer_allowed(here, there, lambda s, p: None)                  # macOS, Windows: unknown
    assert not peer_allowed(here, there, lambda s, p: os.geteuid() + 1)
    assert not peer_allowed(here, there, _raises)                        # Linux, peer not found
    assert not peer_allowed(None, there, lambda s, p: os.geteuid())


def _child_get(uid: int, url: str, host: str | None) -> int:
    """GET url from a forked child running as uid; its status code (0: no answer)."""
    parts = urllib.parse.urlsplit(url)
    request = (f"GET {parts.path} HTTP/1.1\r\nHost: {host or parts.netloc}\r\n"
               "Connection: close\r\n\r\n").encode()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # only already-imported code from here: other threads' locks are not ours
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
                s.sendall(request)
                os.write(write, s.recv(64))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        head = answer.read()
    os.waitpid(pid, 0)
    return int(head.split()[1]) if head.startswith(b"HTTP/") else 0


async def _get(uid: int, url: str, host: str | None = None) -> int:
    return await asyncio.to_thread(_child_get, uid, url, host)


needs_root = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                                reason="needs root on Linux to make a request as another account")


def _refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "apaf.admin" and r.levelno == logging.WARNING and "refused" in r.getMessage()]


@needs_root
async def test_another_account_is_refused_the_launch_link_and_the_owner_still_gets_in(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="apaf.admin")
    server = await serve(RuntimeControlDouble(), tmp_path)
    token = server.launch_url.rstrip("/").rsplit("/", 1)[1]
    try:
        assert await _get(NOBODY, server.launch_url) == 403
        assert await _get(NOBODY, server.launch_url) == 403      # again: still not used up
        # The owner is told, in the runtime's terminal: which link, which account, when.
        refusals = _refusals(caplog)
        assert len(refusals) == 2
        assert "/open/…" in refusals[0] and "uid 65534 (nobody)" in refusals[0]
        assert time.strftime("%Y-%m-%d") in refusals[0]
        assert token not in refusals[0]                            # the log does not hand it on
        assert await _get(os.geteuid(), server.launch_url) == 303
        assert await _get(os.geteuid(), server.launch_url) == 404   # used once, by the owner
        assert len(_refusals(caplog)) == 2                         # the owner's own use is no news
    finally:
        await server.close()


@needs_root
async def test_another_account_is_refused_the_first_boot_link(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="apaf.admin")
    server = await serve(RuntimeControlDouble(), tmp_path)
    try:
        host = urllib.parse.urlsplit(server.url).netloc
        url = server.listen_url + urllib.parse.urlsplit(server.first_boot_url).path.lstrip("/")
        assert await _get(NOBODY, url, host) == 403
        assert any("/first-boot/…" in m for m in _refusals(caplog))
        assert await _get(os.geteuid(), url, host) == 303           # on to the wizard
        assert await _get(NOBODY, server.listen_url + "login", host) == 200  # the password still works
    finally:
        await server.close()


async def test_the_status_page_lists_refused_links_for_the_owner(admin, monkeypatch):
    """What the terminal says is on the status page too, for an owner who started apaf from a menu."""
    from apaf.admin import peer
    from apaf.admin.keys import LAUNCH
    token = admin.client.app[LAUNCH].token
    monkeypatch.setattr(peer, "refused_account", lambda server, peer_: "uid 1001 (mallory)")
    r = await admin.client.get(f"/open/{token}", allow_redirects=False)
    assert r.status == 403
    monkeypatch.undo()
    await admin.login()
    page = await (await admin.client.get("/status")).text()
    assert 'id="refused-links"' in page
    assert "<code>/open/…</code> to uid 1001 (mallory) at " + time.strftime("%Y-%m-%d") in page
    assert token not in page


async def test_the_status_page_says_nothing_when_nothing_was_refused(admin):
    await admin.login()
    assert 'id="refused-links"' not in await (await admin.client.get("/status")).text()


async def test_a_refused_link_cannot_write_into_the_owners_terminal(admin, monkeypatch, caplog):
    """The other account chooses the path: an encoded "/" in the token must not carry decoded
    escapes or new lines into the log line or the status page."""
    import yarl

    from apaf.admin import peer
    caplog.set_level(logging.WARNING, logger="apaf.admin")
    monkeypatch.setattr(peer, "refused_account", lambda server, peer_: "uid 1001 (mallory)")
    path = "/open/x%2F%1b%5b2J%0aWARNING%20apaf:%20open%20http:%2F%2Fevil.example%2Fx"
    r = await admin.client.get(yarl.URL(path, encoded=True), allow_redirects=False)
    assert r.status == 403
    monkeypatch.undo()
    [message] = _refusals(caplog)
    assert "/open/…" in message and "\x1b" not in message and "\n" not in message
    assert "evil" not in message
    await admin.login()
    page = await (await admin.client.get("/status")).text()
    assert "<code>/open/…</code> to uid 1001 (mallory)" in page and "evil" not in page

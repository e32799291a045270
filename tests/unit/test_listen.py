"""The app's listening socket (apaf.listen) and the runtime's side of handing it over
(apaf.apps.handover), in-process (~0.1 s). Real app processes: tests/integration/test_app_process.py."""
import os
import socket
import sys

import pytest

import apaf
from apaf import listen
from apaf.apps.handover import InheritedSocket, OwnPort
from apaf.errors import NotUnderRuntime


def test_outside_the_runtime_listening_socket_says_how_to_start(monkeypatch):
    monkeypatch.delenv(listen.LISTEN_FD, raising=False)
    monkeypatch.setattr(listen, "_taken", None)
    with pytest.raises(NotUnderRuntime, match=r"APAF_LISTEN_FD is not set.*apaf run APP_DIR"):
        apaf.listening_socket()


def test_app_socket_binds_its_port_only_outside_the_runtime(monkeypatch):
    monkeypatch.delenv(listen.LISTEN_FD, raising=False)
    with listen.app_socket("127.0.0.1", 0) as sock:
        assert sock.getsockname()[0] == "127.0.0.1"
        socket.create_connection(sock.getsockname(), timeout=5).close()  # already listening


@pytest.mark.skipif(sys.platform == "win32", reason="Windows: the app binds its own port (OwnPort)")
async def test_the_held_socket_and_the_ready_byte_reach_the_app_side(monkeypatch):
    held = InheritedSocket()
    try:
        env, fds = held.child()
        assert set(fds) == {int(env[listen.LISTEN_FD]), int(env[listen.READY_FD])}
        # The app process's own copies of the two descriptors.
        mine = {name: str(os.dup(int(env[name]))) for name in (listen.LISTEN_FD, listen.READY_FD)}
        for name, value in {**env, **mine}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(listen, "_taken", None)
        assert not await held.ready()
        sock = listen.listening_socket()  # the app takes it: the runtime hears it is ready
        held.spawned()
        assert await held.ready() and listen.READY_FD not in os.environ
        assert sock.getsockname()[1] == held.port and not sock.get_inheritable()
        sock.close()  # the app process goes away: the runtime still holds the port
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.bind(("127.0.0.1", held.port))
    finally:
        held.close()


async def test_own_port_is_ready_once_the_app_listens():
    own = OwnPort()
    assert own.child() == ({}, ()) and not await own.ready()
    with socket.create_server(("127.0.0.1", own.port)):
        assert await own.ready()


@pytest.mark.skipif(sys.platform == "win32", reason="Windows: the app binds its own port (OwnPort)")
def test_ready_pipe_is_closed_also_when_the_runtime_is_gone(monkeypatch):
    read, write = os.pipe()
    os.close(read)  # the runtime died (or gave up) before the app was ready: EPIPE
    monkeypatch.setenv(listen.READY_FD, str(write))
    listen.mark_ready()
    with pytest.raises(OSError):
        os.fstat(write)  # not left open for the app's programs to inherit

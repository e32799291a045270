"""apaf.tor.batch against a stand-in control port on loopback (a real tor's side of the same
thing: tests/integration/test_onion_batch.py): the commands arrive before any answer, the
answers are matched in order, and a refusal is a ControllerError naming it."""
import socket
import threading

import pytest
from stem import ControllerError

from apaf.tor.batch import AddOnion, add_onions

PROTOCOLINFO = (b'250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n'
                b'250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n')
KEY = "ED25519-V3:" + "A" * 86 + "=="


def control_port(answer) -> tuple[int, list[bytes]]:
    """Serve one connection: PROTOCOLINFO and AUTHENTICATE answered as tor does with no
    authentication, then `answer(lines)` once the lines it waits for have come."""
    server = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def serve():
        conn, _ = server.accept()
        conn.settimeout(5)
        buf = b""
        with conn:
            while True:
                while b"\r\n" not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                got.append(line)
                if line.startswith(b"PROTOCOLINFO"):
                    conn.sendall(PROTOCOLINFO)
                elif line.startswith(b"AUTHENTICATE"):
                    conn.sendall(b"250 OK\r\n")
                else:
                    reply = answer(got)
                    if reply is not None:
                        conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], got


def test_all_commands_are_written_before_any_answer_and_answers_are_matched_in_order():
    def answer(got):
        adds = [g for g in got if g.startswith(b"ADD_ONION")]
        if len(adds) < 2:
            return None  # a client that waited for this answer first would hang here
        return (b"250-ServiceID=aaaa\r\n250 OK\r\n"
                b"512 Invalid key blob\r\n")

    port, got = control_port(answer)
    answers = add_onions("127.0.0.1", port, [AddOnion(KEY, {80: "127.0.0.1:8080"}, 32),
                                             AddOnion("NEW:ED25519-V3", {80: "127.0.0.1:8081"}, 32)])
    assert answers[0].service_id == "aaaa"
    assert answers[1] == "Invalid key blob"
    assert got[-2:] == [
        f"ADD_ONION {KEY} Flags=Detach,MaxStreamsCloseCircuit MaxStreams=32 Port=80,127.0.0.1:8080".encode(),
        b"ADD_ONION NEW:ED25519-V3 Flags=Detach,MaxStreamsCloseCircuit MaxStreams=32 Port=80,127.0.0.1:8081"]


def test_a_refused_authentication_is_a_controller_error():
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(PROTOCOLINFO.replace(b"METHODS=NULL", b"METHODS=HASHEDPASSWORD"))
            conn.recv(4096)

    threading.Thread(target=serve, daemon=True).start()
    with pytest.raises(ControllerError, match="tor refused this control connection"):
        add_onions("127.0.0.1", server.getsockname()[1], [AddOnion(KEY, {80: "127.0.0.1:1"}, 32)])

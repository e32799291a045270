"""The chat example's own process closes connections that stay idle (a stream flood's
leftovers): one that never sends a request, and one idle after its answer.
Wall time: ~16 s (both connections wait out IDLE_SECONDS together).
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from fixtures.apache import free_port, stop, wait_for_port

CHAT = Path(__file__).resolve().parents[2] / "examples" / "chat"
sys.path.insert(0, str(CHAT))
from chat_app import IDLE_SECONDS  # noqa: E402


def closed_after(sock, limit):
    """Seconds until the server closed sock (EOF or reset), or None within limit."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_idle_connections_to_the_chat_are_closed():
    port = free_port()
    env = dict(os.environ, APAF_BIND_HOST="127.0.0.1", APAF_PORT=str(port),
               APAF_SETTINGS=json.dumps({}), PYTHONPATH=os.pathsep.join(
                   [str(CHAT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(CHAT / "chat_app.py")], env=env)
    try:
        wait_for_port(port, proc)
        silent = socket.create_connection(("127.0.0.1", port))
        served = socket.create_connection(("127.0.0.1", port))
        served.sendall(b"GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        assert served.recv(65536).startswith(b"HTTP/1.1 200 OK")
        waited = closed_after(silent, IDLE_SECONDS + 10)
        assert waited is not None, "a connection that sent nothing is still open"
        assert closed_after(served, 10) is not None, "an idle keep-alive connection is still open"
        silent.close()
        served.close()
    finally:
        stop(proc)

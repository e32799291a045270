"""ADD_ONION several onion services in one write, so tor's first onion-service run has them all.

tor does its onion-service work (build descriptors, pick introduction points, launch their
circuits, upload) in a periodic event that runs once a second. The ADD_ONION that adds the
first service enables that event, and it runs on the next turn of tor's main loop; a
service added on the next control round trip (stem sends one command and waits for its
answer, ~15 ms here) misses that run and waits a second for the next one, then a second
more for its upload. In tor's info logs (bench_runtime.py --keep) the second app's
descriptors were built exactly one run after the first app's, and it was uploaded ~1 s
later. tor handles every complete command it has read before it goes back to its loop, so
commands written in one piece are all added before that run.

stem's Controller has no way to send several commands at once, so this opens a short second
control connection with stem's own socket class and authentication (cookie, as the main
connection) and writes the batch raw; the answers are read and parsed by stem. The services
are added with `Flags=Detach` so they outlive this connection; they still end with tor,
which ends with the runtime (owner.py), and the main connection's DEL_ONION removes them.
"""
from __future__ import annotations

from dataclasses import dataclass

from apaf.stem_import import import_stem

import_stem()  # before this module's `import stem`: without what it never uses (stem_import.py)
import stem.connection  # noqa: E402
import stem.response  # noqa: E402
import stem.socket  # noqa: E402


@dataclass(frozen=True)
class AddOnion:
    """One ADD_ONION: `key` is "ED25519-V3:<base64>" or "NEW:ED25519-V3"; ports virt -> "host:port"."""
    key: str
    ports: dict[int, str]
    max_streams: int

    def command(self) -> str:
        # Flags as stem's create_ephemeral_hidden_service would send them, plus Detach.
        ports = " ".join(f"Port={virt},{target}" for virt, target in self.ports.items())
        return (f"ADD_ONION {self.key} Flags=Detach,MaxStreamsCloseCircuit "
                f"MaxStreams={self.max_streams} {ports}")


class _BatchPort(stem.socket.ControlPort):
    def send_raw(self, text: str) -> None:
        # stem's own send lock and file; raw=True keeps our CRLF-separated commands as they are.
        self._send(text, lambda _sock, file, msg: stem.socket.send_message(file, msg, raw=True))


def add_onions(address: str, port: int, requests: list[AddOnion]) -> list:
    """Send `requests` in one write; per request, stem's AddOnionResponse or tor's refusal (str).

    Raises stem's ControllerError (SocketError...) when tor cannot be reached or refuses us.
    """
    sock = _BatchPort(address, port)
    try:
        try:
            stem.connection.authenticate(sock)
        except stem.connection.AuthenticationFailure as err:  # not a ControllerError in stem
            raise stem.ControllerError(f"tor refused this control connection: {err}") from None
        sock.send_raw("".join(r.command() + "\r\n" for r in requests))
        answers = []
        for _ in requests:
            reply = sock.recv()
            if reply.is_ok():
                stem.response.convert("ADD_ONION", reply)
                answers.append(reply)
            else:
                answers.append(str(reply))
        return answers
    finally:
        sock.close()

"""Two tiny DNS servers for the no-leak test (real UDP/TCP sockets on 127.0.0.x:53).

`DnsServer(ip, answer=None)` records every query name it receives; with `answer` set it
replies to A queries with that IPv4 address (the exit relays' resolver), otherwise it
stays silent (the local resolver that must never be asked).
"""
from __future__ import annotations

import socket
import socketserver
import struct
import threading


def query_name(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset of the question) of a DNS query."""
    labels, at = [], 12
    while packet[at]:
        size = packet[at]
        labels.append(packet[at + 1:at + 1 + size].decode("ascii", "replace"))
        at += 1 + size
    qtype = struct.unpack("!H", packet[at + 1:at + 3])[0]
    return ".".join(labels), qtype, at + 5


def a_record_reply(packet: bytes, ip: str) -> bytes:
    name, qtype, end = query_name(packet)
    answers = 1 if qtype == 1 else 0
    head = packet[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, answers, 0, 0)
    reply = head + packet[12:end]
    if answers:
        reply += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
    return reply


class DnsServer:
    def __init__(self, ip: str, answer: str | None = None):
        self.names: list[str] = []
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                server.names.append(query_name(data)[0])
                if answer:
                    sock.sendto(a_record_reply(data, answer), self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                data = self.request.recv(65535)[2:]
                server.names.append(query_name(data)[0] if len(data) > 12 else "<tcp>")
                if answer and len(data) > 12:
                    reply = a_record_reply(data, answer)
                    self.request.sendall(struct.pack("!H", len(reply)) + reply)

        self.servers = [socketserver.ThreadingUDPServer((ip, 53), Udp),
                        socketserver.ThreadingTCPServer((ip, 53), Tcp)]
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()

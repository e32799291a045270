"""Linux: which user owns the other end of a loopback TCP connection, from /proc/net/tcp{,6}.

The kernel lists every TCP socket of this network namespace there with the uid that
created it.  A loopback client's socket is the row whose local address is the peer the
server sees and whose remote address is the server's own; that row's uid is who is on
the other end (the admin UI's one-time links, apaf.admin.peer).
"""
from __future__ import annotations

import ipaddress
import struct

TABLES = ("/proc/net/tcp", "/proc/net/tcp6")

Endpoint = tuple[bytes, int]  # 16-byte IPv6 form (IPv4 as ::ffff:a.b.c.d), port


def _endpoint(host: str, port: int) -> Endpoint:
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if address.version == 4:
        address = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
    return address.packed, port


def _parse(field: str) -> Endpoint:
    # "0100007F:1F90": each 32-bit word of the address printed as a number in the kernel's
    # byte order, the port in hex.
    hexaddr, _, hexport = field.partition(":")
    raw = b"".join(struct.pack("=I", int(hexaddr[i:i + 8], 16)) for i in range(0, len(hexaddr), 8))
    if len(raw) == 4:
        raw = b"\0" * 10 + b"\xff\xff" + raw
    return raw, int(hexport, 16)


def peer_uid(server: tuple, peer: tuple, tables=TABLES) -> int:
    """The uid owning the socket at ``peer`` connected to ``server`` (both as getsockname()
    and getpeername() give them on the server side).

    Raises LookupError when no live socket matches: the peer closed it (a closed socket
    lingers as a row with uid 0 and inode 0, which must not pass for root's), or /proc
    is not readable.
    """
    want_local, want_remote = _endpoint(peer[0], peer[1]), _endpoint(server[0], server[1])
    port = f":{peer[1]:04X}"  # cheap filter: most rows are other sockets
    for table in tables:
        try:
            with open(table, encoding="ascii") as rows:
                next(rows, None)  # the header
                for row in rows:
                    fields = row.split()
                    if len(fields) < 10 or not fields[1].endswith(port) or fields[9] == "0":
                        continue
                    if _parse(fields[1]) == want_local and _parse(fields[2]) == want_remote:
                        return int(fields[7])
        except (OSError, ValueError) as err:
            raise LookupError(f"cannot read {table}: {err}") from err
    raise LookupError(f"no live socket at {peer[0]}:{peer[1]} connected to {server[0]}:{server[1]}")

"""Read the one program out of a .deb or an .rpm, with nothing but Python.

A user verifying a download may have neither dpkg nor rpm, and the packages are
simple: a .deb is an `ar` archive holding data.tar.*; an .rpm is a lead, two
headers and a cpio ("newc") payload, gzip-compressed by toolchains/recipes/rpm.
Only what the farm writes is read; anything else is a clear ValueError.
"""
from __future__ import annotations

import gzip
import io
import lzma
import struct
import tarfile
from pathlib import Path


def _ar_members(data: bytes):
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not a .deb (no ar header)")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        yield name, data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)


def deb_file(path: Path, member: str) -> bytes:
    """The bytes of `member` (e.g. "opt/chat/chat") in the .deb's data archive."""
    for name, body in _ar_members(path.read_bytes()):
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise ValueError(f"{path.name}: zstd data archives are not read here")
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
                for info in tar:
                    if info.name.lstrip("./") == member and info.isfile():
                        return tar.extractfile(info).read()
            raise ValueError(f"{path.name} holds no {member}")
    raise ValueError(f"{path.name} has no data.tar member")


def _rpm_header_end(data: bytes, pos: int, pad: bool) -> int:
    if data[pos:pos + 3] != b"\x8e\xad\xe8":
        raise ValueError("not an .rpm (bad header magic)")
    nindex, hsize = struct.unpack(">II", data[pos + 8:pos + 16])
    end = pos + 16 + 16 * nindex + hsize
    return end + (-end % 8 if pad else 0)


def rpm_file(path: Path, member: str) -> bytes:
    """The bytes of `member` in the .rpm's cpio payload."""
    data = path.read_bytes()
    if data[:4] != b"\xed\xab\xee\xdb":
        raise ValueError(f"{path.name} is not an .rpm (no lead)")
    start = _rpm_header_end(data, _rpm_header_end(data, 96, pad=True), pad=False)
    payload = data[start:]
    if payload[:2] == b"\x1f\x8b":
        payload = gzip.decompress(payload)
    elif payload[:6] == b"\xfd7zXZ\x00":
        payload = lzma.decompress(payload)
    else:
        raise ValueError(f"{path.name}: payload compression not read here (gzip and xz are)")
    pos = 0
    while payload[pos:pos + 6] == b"070701":
        head = payload[pos:pos + 110]
        filesize, namesize = int(head[54:62], 16), int(head[94:102], 16)
        name = payload[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = payload[pos:pos + filesize]
        pos += filesize + (-filesize % 4)
        if name == "TRAILER!!!":
            break
        if name.lstrip("./") == member:
            return body
    raise ValueError(f"{path.name} holds no {member}")


def packaged_program(path: Path, app: str) -> bytes:
    """The program a .deb or .rpm installs as /opt/<app>/<app> (toolchains/recipes/deb, rpm)."""
    member = f"opt/{app}/{app}"
    if path.name.endswith(".deb"):
        return deb_file(path, member)
    if path.name.endswith(".rpm"):
        return rpm_file(path, member)
    raise ValueError(f"{path.name} is neither a .deb nor an .rpm")

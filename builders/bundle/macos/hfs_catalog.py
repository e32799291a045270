"""Read the HFS+ catalog xorriso wrote: each entry's catalog node id (CNID) and data extents.

Finder's background alias names its file by CNID (and its folder's); xorriso
assigns them, so the writer reads them back here and writes them into the alias.
Hand-written: the only Python HFS+ readers on PyPI are unmaintained forensic
kits, and the catalog's leaf records are all that is needed (TN1150 layout).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .udif import SECTOR, apm_partitions

ROOT_PARENT, ROOT_FOLDER = 1, 2          # fixed CNIDs: the root folder's parent, the root folder
FOLDER, FILE = 1, 2                      # catalog leaf record types


@dataclass(frozen=True)
class Entry:
    parent: int            # CNID of the containing folder
    name: str
    kind: int              # FOLDER or FILE
    cnid: int
    extents: tuple[tuple[int, int], ...]   # files: (start block, block count) of the data fork
    size: int              # files: data fork length in bytes


def _volume(raw) -> tuple[int, bytes]:
    """Byte offset of the HFS+ partition and its volume header."""
    parts = [p for p in apm_partitions(raw) if "(Apple_HFS :" in p.name]
    if len(parts) != 1:
        raise ValueError("the image has no single Apple_HFS partition")
    base = parts[0].first_sector * SECTOR
    header = bytes(raw[base + 1024:base + 1536])
    if header[:2] != b"H+":
        raise ValueError("the Apple_HFS partition holds no HFS+ volume header")
    return base, header


def _fork(header: bytes, at: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    size = struct.unpack(">Q", header[at:at + 8])[0]
    ext = struct.unpack(">16I", header[at + 16:at + 80])
    return size, tuple((ext[i], ext[i + 1]) for i in range(0, 16, 2) if ext[i + 1])


def entries(raw) -> list[Entry]:
    """Every folder and file record of the catalog (raw: the partitioned disk image's bytes)."""
    base, header = _volume(raw)
    block = struct.unpack(">I", header[40:44])[0]
    size, extents = _fork(header, 0x110)   # the catalog file's fork
    catalog = b"".join(bytes(raw[base + s * block:base + (s + n) * block]) for s, n in extents)[:size]
    node_size = struct.unpack(">H", catalog[32:34])[0]
    node = struct.unpack(">I", catalog[24:28])[0]        # first leaf node (header record)
    out = []
    while node:
        data = catalog[node * node_size:(node + 1) * node_size]
        flink, _, kind, _, count = struct.unpack(">IIbBH", data[:12])
        if kind != -1:
            raise ValueError(f"catalog node {node} is not a leaf node")
        for i in range(count):
            at = struct.unpack(">H", data[node_size - 2 * (i + 1):node_size - 2 * i])[0]
            key_len, parent, name_len = struct.unpack(">HIH", data[at:at + 8])
            name = data[at + 8:at + 8 + 2 * name_len].decode("utf-16-be")
            rec = at + 2 + key_len
            rtype = struct.unpack(">h", data[rec:rec + 2])[0]
            if rtype == FOLDER:
                out.append(Entry(parent, name, FOLDER, struct.unpack(">I", data[rec + 8:rec + 12])[0], (), 0))
            elif rtype == FILE:
                fsize, fext = _fork(data[rec + 88:rec + 168], 0)
                out.append(Entry(parent, name, FILE, struct.unpack(">I", data[rec + 8:rec + 12])[0], fext, fsize))
        node = flink
    return out


def lookup(raw, name: str, parent: int = ROOT_FOLDER) -> Entry:
    """The entry `name` in folder `parent` (default: the volume's root); KeyError if absent."""
    for e in entries(raw):
        if e.parent == parent and e.name == name:
            return e
    raise KeyError(f"{name!r} is not in folder {parent} of the HFS+ catalog")


def read_file(raw, entry: Entry) -> bytes:
    """A file's data fork, from its extents."""
    base, header = _volume(raw)
    block = struct.unpack(">I", header[40:44])[0]
    data = b"".join(bytes(raw[base + s * block:base + (s + n) * block]) for s, n in entry.extents)
    return data[:entry.size]

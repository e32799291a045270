"""Wrap a raw disk image (Apple partition map + HFS+) into a compressed UDIF .dmg.

`write_udif(raw, out)` writes a UDZO (zlib) image: the data fork of compressed
chunks, the XML property list with the `blkx` (one per partition) and `plst`
resources, and the 512-byte `koly` trailer, with the CRC32 checksums a reader
checks (each partition's uncompressed data, the data fork, the master checksum).
The output depends only on the input bytes: no clock, no random UUID.

Hand-written (stdlib only) because no maintained Python UDIF writer exists on
PyPI (dmgbuild calls hdiutil, which only runs on macOS). The format is Apple's
and undocumented; this follows what hdiutil writes and what 7-Zip and dmg2img read.
"""
from __future__ import annotations

import binascii
import hashlib
import mmap
import plistlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
CHUNK_SECTORS = 2048  # 1 MiB of the volume per compressed chunk, as hdiutil does

# blkx chunk types
ZERO_FILL = 0x00000000
RAW = 0x00000001
ZLIB = 0x80000005
TERMINATOR = 0xFFFFFFFF

CRC32 = 2  # UDIF checksum type


@dataclass(frozen=True)
class Partition:
    """One run of sectors that gets its own blkx table (its name is what readers show)."""
    name: str
    first_sector: int
    sectors: int


def apm_partitions(raw: bytes) -> list[Partition]:
    """The Apple partition map's entries plus the driver descriptor block, gaps filled.

    Raises ValueError when `raw` has no partition map (the volume must come
    from `xorrisofs -hfsplus`, which writes one).
    """
    if raw[:2] != b"ER":
        raise ValueError("raw image has no Apple partition map (driver descriptor 'ER' missing); "
                         "make the volume with xorrisofs -hfsplus")
    block = struct.unpack(">H", raw[2:4])[0]
    signature, count = struct.unpack(">4sI", raw[block:block + 8])
    if signature[:2] != b"PM":
        raise ValueError("raw image: partition map entry 1 is not 'PM'")
    entries = []
    for i in range(1, count + 1):
        e = raw[i * block:(i + 1) * block]
        start, length = struct.unpack(">II", e[8:16])
        name = e[16:48].split(b"\0")[0].decode("ascii", "replace")
        ptype = e[48:80].split(b"\0")[0].decode("ascii", "replace")
        entries.append((start * block // SECTOR, length * block // SECTOR, name, ptype))
    entries.sort()
    total = len(raw) // SECTOR
    # Cover every sector exactly once: the driver descriptor block, the map's
    # entries, and any gap between them (xorriso leaves one after the map).
    # Named as hdiutil names them, "<name> (<type> : <n>)", n counting from 0.
    runs, pos = [], 0
    for first, sectors, name, ptype in entries:
        if first > pos:
            runs.append((pos, first - pos, *(("Driver Descriptor Map", "DDM") if pos == 0 else ("", "Apple_Free"))))
        end = min(first + sectors, total)
        if end > first:
            runs.append((first, end - first, name, ptype))
        pos = max(pos, end)
    if pos < total:
        runs.append((pos, total - pos, "", "Apple_Free"))
    return [Partition(f"{name} ({ptype} : {n})", first, sectors)
            for n, (first, sectors, name, ptype) in enumerate(runs)]


def _checksum(crc: int) -> bytes:
    """UDIF checksum field: type, size in bits, 32 words of which the first holds the CRC."""
    return struct.pack(">II", CRC32, 32) + struct.pack(">I", crc) + bytes(124)


def _mish(part: Partition, partition_id: int, chunks: list[tuple], crc: int) -> bytes:
    head = struct.pack(">4sIQQQII", b"mish", 1, part.first_sector, part.sectors, 0,
                       CHUNK_SECTORS + 8, partition_id & 0xFFFFFFFF)  # buffers: a chunk + 8, as hdiutil
    head += bytes(24) + _checksum(crc) + struct.pack(">I", len(chunks) + 1)
    body = b"".join(struct.pack(">IIQQQQ", kind, 0, sector, count, offset, length)
                    for kind, sector, count, offset, length in chunks)
    end = struct.pack(">IIQQQQ", TERMINATOR, 0, part.sectors, 0, 0, 0)
    return head + body + end


def write_udif(raw_path: Path, out_path: Path, *, level: int = 9) -> dict:
    """Compress `raw_path` into the UDZO image `out_path`; returns sizes and checksums.

    The raw image's length must be a multiple of 512 bytes. zlib level 9 is
    hdiutil's `-imagekey zlib-level=9`. Memory stays at one 1 MiB chunk: the
    volume is mapped, the data fork streamed to `out_path`.
    """
    raw_path, out_path = Path(raw_path), Path(out_path)
    size = raw_path.stat().st_size
    if size % SECTOR or not size:
        raise ValueError(f"{raw_path}: {size} bytes is not a whole number of 512-byte sectors")
    with open(raw_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw, \
            open(out_path, "wb") as out:
        parts = apm_partitions(raw)
        fork_len, data_crc, blkx, crcs = 0, 0, [], []
        segment = hashlib.sha256()   # the segment id derives from the content: equal inputs, equal images
        for pid, part in enumerate(parts, start=-1):
            chunks, crc = [], 0
            for s in range(0, part.sectors, CHUNK_SECTORS):
                at = (part.first_sector + s) * SECTOR
                piece = raw[at:at + min(CHUNK_SECTORS, part.sectors - s) * SECTOR]
                crc = binascii.crc32(piece, crc)
                segment.update(piece)
                n = len(piece) // SECTOR
                if not piece.strip(b"\0"):
                    chunks.append((ZERO_FILL, s, n, fork_len, 0))
                    continue
                packed = zlib.compress(piece, level)
                kind = ZLIB
                if len(packed) >= len(piece):  # incompressible (already compressed) data
                    kind, packed = RAW, piece
                chunks.append((kind, s, n, fork_len, len(packed)))
                out.write(packed)
                fork_len += len(packed)
                data_crc = binascii.crc32(packed, data_crc)
            crcs.append(crc)
            blkx.append({"Attributes": "0x0050", "CFName": part.name, "Name": part.name, "ID": str(pid),
                         "Data": _mish(part, pid, chunks, crc)})
        # The master checksum: CRC32 over every blkx's checksum word, in order.
        master = binascii.crc32(b"".join(struct.pack(">I", c) for c in crcs))
        xml = plistlib.dumps({"resource-fork": {
            "blkx": blkx,
            "plst": [{"Attributes": "0x0050", "Data": bytes(0x328), "ID": "0", "Name": ""}],
        }})
        koly = struct.pack(">4sIIIQQQQQII16s", b"koly", 4, 512, 1, 0, 0, fork_len, 0, 0, 1, 1,
                           segment.digest()[:16])
        koly += _checksum(data_crc)
        koly += struct.pack(">QQ", fork_len, len(xml)) + bytes(120)
        koly += _checksum(master)
        koly += struct.pack(">IQ", 1, size // SECTOR) + bytes(12)
        assert len(koly) == 512, len(koly)
        out.write(xml + koly)
    return {"raw_bytes": size, "dmg_bytes": out_path.stat().st_size,
            "partitions": [p.name for p in parts], "data_crc32": data_crc, "master_crc32": master}


__all__ = ["Partition", "apm_partitions", "write_udif"]

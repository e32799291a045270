"""UDIF structure written by builders/bundle/macos/udif.py, read back field by field.

The independent readers (7-Zip, dmg2img) check real images in
tests/integration/bundle/test_dmg.py; this checks the layout of the format
itself on a small hand-made partitioned image, so a regression names the field.
"""
from __future__ import annotations

import binascii
import os
import plistlib
import struct
import zlib

import pytest

from builders.bundle.macos.udif import apm_partitions, write_udif


def partitioned_image(data: bytes) -> bytes:
    """An Apple partition map (512-byte blocks): the map itself, then one Apple_HFS partition."""
    blocks = 3 + len(data) // 512
    ddm = b"ER" + struct.pack(">HI", 512, blocks)
    def entry(start, count, name, kind):
        return (b"PM\0\0" + struct.pack(">III", 2, start, count)
                + name.ljust(32, b"\0") + kind.ljust(32, b"\0")).ljust(512, b"\0")
    return (ddm.ljust(512, b"\0") + entry(1, 2, b"Apple", b"Apple_partition_map")
            + entry(3, blocks - 3, b"disk image", b"Apple_HFS") + data)


def read_udif(blob: bytes):
    koly = blob[-512:]
    assert koly[:4] == b"koly"
    version, size, flags = struct.unpack(">III", koly[4:16])
    fork_off, fork_len = struct.unpack(">QQ", koly[24:40])
    xml_off, xml_len = struct.unpack(">QQ", koly[216:232])
    return {"version": version, "size": size, "flags": flags, "fork": blob[fork_off:fork_off + fork_len],
            "data_crc": struct.unpack(">III", koly[80:92]), "xml": plistlib.loads(blob[xml_off:xml_off + xml_len]),
            "master_crc": struct.unpack(">III", koly[352:364]), "sectors": struct.unpack(">Q", koly[492:500])[0],
            "xml_end": xml_off + xml_len, "total": len(blob)}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("udif")
    data = os.urandom(1024 * 1024) + bytes(3 * 1024 * 1024) + b"apaf" * 40_960
    raw = partitioned_image(data)
    (tmp / "raw.img").write_bytes(raw)
    info = write_udif(tmp / "raw.img", tmp / "out.dmg")
    return raw, (tmp / "out.dmg").read_bytes(), info, tmp


def test_trailer_fork_and_plist_sit_where_the_trailer_says(image):
    raw, blob, info, _ = image
    u = read_udif(blob)
    assert (u["version"], u["size"], u["flags"]) == (4, 512, 1)
    assert u["xml_end"] == u["total"] - 512 and u["sectors"] == len(raw) // 512
    assert set(u["xml"]["resource-fork"]) == {"blkx", "plst"}
    assert u["data_crc"] == (2, 32, binascii.crc32(u["fork"]))
    assert info["dmg_bytes"] == len(blob) < len(raw) / 2      # zeros and repeats compress


def test_blkx_tables_cover_every_sector_once_and_carry_each_partitions_crc(image):
    raw, blob, _, _ = image
    u = read_udif(blob)
    blkx = u["xml"]["resource-fork"]["blkx"]
    assert [b["Name"] for b in blkx] == ["Driver Descriptor Map (DDM : 0)", "Apple (Apple_partition_map : 1)",
                                         "disk image (Apple_HFS : 2)"]
    rebuilt, crcs, kinds = b"", [], set()
    for b in blkx:
        mish = b["Data"]
        assert mish[:4] == b"mish"
        first, count = struct.unpack(">QQ", mish[8:24])
        assert first * 512 == len(rebuilt)
        ctype, cbits, crc = struct.unpack(">III", mish[64:76])
        n = struct.unpack(">I", mish[200:204])[0]
        part = b""
        for i in range(n):
            kind, _, sector, sectors, off, length = struct.unpack(">IIQQQQ", mish[204 + 40 * i:244 + 40 * i])
            kinds.add(kind)
            if kind == 0xFFFFFFFF:
                assert i == n - 1 and sector == count
                break
            assert sector * 512 == len(part)
            piece = u["fork"][off:off + length]
            part += {0x80000005: lambda: zlib.decompress(piece), 1: lambda: piece,
                     0: lambda: bytes(sectors * 512)}[kind]()
        assert len(part) == count * 512 and (ctype, cbits, crc) == (2, 32, binascii.crc32(part))
        crcs.append(crc)
        rebuilt += part
    assert rebuilt == raw
    assert {0, 1, 0x80000005} <= kinds       # zero fill, stored (random data), zlib
    assert u["master_crc"] == (2, 32, binascii.crc32(b"".join(struct.pack(">I", c) for c in crcs)))


def test_same_input_same_bytes_anywhere(image, tmp_path):
    raw, blob, _, _ = image
    (tmp_path / "elsewhere.img").write_bytes(raw)
    write_udif(tmp_path / "elsewhere.img", tmp_path / "again.dmg")
    assert (tmp_path / "again.dmg").read_bytes() == blob


def test_an_image_without_partition_map_or_whole_sectors_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no Apple partition map.*xorrisofs -hfsplus"):
        apm_partitions(bytes(4096))
    (tmp_path / "odd.img").write_bytes(b"ER" + bytes(1000))
    with pytest.raises(ValueError, match="not a whole number of 512-byte sectors"):
        write_udif(tmp_path / "odd.img", tmp_path / "x.dmg")

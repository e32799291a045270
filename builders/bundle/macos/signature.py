"""Read the code signature embedded in a Mach-O file (thin or universal) and check its digests.

`signatures(path)` returns one `Signature` per architecture slice: its code directories
(`CodeDirectory`: flags, identifier, team, hash type, special and code slot hashes,
`cdhash`) and the raw blobs the special slots hash. `check_code(path)` recomputes every
code page hash of every slice and returns the problems found ([] when the code matches).

Hand-written on top of macholib (which finds the slices and LC_CODE_SIGNATURE): no
maintained Python library reads the blobs inside a signature (Apple's format is
documented only by xnu's cs_blobs.h), and `rcodesign verify` refuses ad-hoc signatures,
which are what the farm makes by default.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

# xnu osfmk/kern/cs_blobs.h
MAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
MAGIC_CODEDIRECTORY = 0xFADE0C02
SLOT_CODEDIRECTORY = 0
SLOT_INFO = 1            # hash of Contents/Info.plist
SLOT_REQUIREMENTS = 2
SLOT_RESOURCEDIR = 3     # hash of Contents/_CodeSignature/CodeResources
SLOT_ENTITLEMENTS = 5
SLOT_DER_ENTITLEMENTS = 7
SLOT_ALTERNATE_CD = range(0x1000, 0x1005)
SLOT_CMS = 0x10000
FLAG_ADHOC = 0x2
FLAG_RUNTIME = 0x10000   # hardened runtime
_HASHES = {1: hashlib.sha1, 2: hashlib.sha256, 3: hashlib.sha256, 4: hashlib.sha384}


class SignatureError(Exception):
    """The file is not Mach-O, is unsigned, or its signature cannot be parsed."""


@dataclass
class CodeDirectory:
    raw: bytes
    version: int
    flags: int
    identifier: str
    team: str
    hash_type: int
    page_size: int
    code_limit: int
    code_hashes: list[bytes]
    special: dict[int, bytes]   # slot number (1 = Info.plist, 3 = CodeResources ...) -> hash

    def hash(self, data: bytes) -> bytes:
        """`data` hashed the way this directory hashes (truncated to its hash size)."""
        size = len(self.code_hashes[0]) if self.code_hashes else len(next(iter(self.special.values()), b""))
        return _HASHES[self.hash_type](data).digest()[:size or None]

    @property
    def cdhash(self) -> bytes:
        """The code directory hash that CodeResources and the kernel use (first 20 bytes)."""
        return _HASHES[self.hash_type](self.raw).digest()[:20]

    @property
    def adhoc(self) -> bool:
        return bool(self.flags & FLAG_ADHOC)

    @property
    def hardened_runtime(self) -> bool:
        return bool(self.flags & FLAG_RUNTIME)


@dataclass
class Signature:
    arch: str
    offset: int                 # of the slice in the file
    size: int
    directories: list[CodeDirectory]
    blobs: dict[int, bytes] = field(default_factory=dict)   # slot -> raw blob (requirements, CMS ...)

    @property
    def cms(self) -> bytes:
        """The CMS signature blob's payload (empty for ad-hoc signatures)."""
        blob = self.blobs.get(SLOT_CMS, b"")
        return blob[8:]


def _code_directory(raw: bytes) -> CodeDirectory:
    (magic, length, version, flags, hash_off, ident_off, n_special, n_code, code_limit,
     hash_size, hash_type, _platform, page_log) = struct.unpack_from(">7I2I4B", raw, 0)
    if magic != MAGIC_CODEDIRECTORY or hash_type not in _HASHES:
        raise SignatureError(f"not a code directory (magic {magic:#x}, hash type {hash_type})")
    raw = raw[:length]
    team = ""
    if version >= 0x20200:
        team_off = struct.unpack_from(">I", raw, 48)[0]
        team = raw[team_off:raw.index(b"\0", team_off)].decode() if team_off else ""
    if version >= 0x20300:
        code_limit = struct.unpack_from(">Q", raw, 56)[0] or code_limit
    identifier = raw[ident_off:raw.index(b"\0", ident_off)].decode()
    special = {n: raw[hash_off - n * hash_size:hash_off - (n - 1) * hash_size] for n in range(1, n_special + 1)}
    code = [raw[hash_off + i * hash_size:hash_off + (i + 1) * hash_size] for i in range(n_code)]
    return CodeDirectory(raw, version, flags, identifier, team, hash_type,
                         1 << page_log if page_log else 0, code_limit, code, special)


def _superblob(data: bytes) -> tuple[list[CodeDirectory], dict[int, bytes]]:
    magic, length, count = struct.unpack_from(">3I", data, 0)
    if magic != MAGIC_EMBEDDED_SIGNATURE:
        raise SignatureError(f"bad signature superblob magic {magic:#x}")
    directories, blobs = [], {}
    for i in range(count):
        slot, off = struct.unpack_from(">2I", data, 12 + 8 * i)
        blob_len = struct.unpack_from(">I", data, off + 4)[0]
        blob = data[off:off + blob_len]
        if slot == SLOT_CODEDIRECTORY or slot in SLOT_ALTERNATE_CD:
            directories.append(_code_directory(blob))
        else:
            blobs[slot] = blob
    if not directories:
        raise SignatureError("signature has no code directory")
    return directories, blobs


def signatures(path: Path) -> list[Signature]:
    """The signature of each architecture slice in `path`; SignatureError if unsigned or not Mach-O."""
    from macholib.mach_o import CPU_TYPE_NAMES, LC_CODE_SIGNATURE
    from macholib.MachO import MachO

    try:
        macho = MachO(str(path), allow_unknown_load_commands=True)
    except Exception as exc:  # noqa: BLE001 - macholib raises ValueError, struct.error, KeyError ...
        raise SignatureError(f"{path}: not a Mach-O file ({exc})") from None
    data = Path(path).read_bytes()
    out = []
    for header in macho.headers:
        arch = CPU_TYPE_NAMES.get(header.header.cputype, str(header.header.cputype))
        cmd = next((c for lc, c, _ in header.commands if lc.cmd == LC_CODE_SIGNATURE), None)
        if cmd is None:
            raise SignatureError(f"{path}: the {arch} slice is not signed")
        start = header.offset + cmd.dataoff
        directories, blobs = _superblob(data[start:start + cmd.datasize])
        size = header.size or len(data) - header.offset
        out.append(Signature(arch, header.offset, size, directories, blobs))
    return out


def check_code(path: Path) -> list[str]:
    """Problems with `path`'s code page hashes, one line each; [] when every page matches."""
    data = Path(path).read_bytes()
    problems = []
    for sig in signatures(path):
        body = data[sig.offset:sig.offset + sig.size]
        for cd in sig.directories:
            page = cd.page_size or cd.code_limit
            want = (cd.code_limit + page - 1) // page
            if len(cd.code_hashes) != want:
                problems.append(f"{path.name} ({sig.arch}): {len(cd.code_hashes)} page hashes for {want} pages")
            for i, expected in enumerate(cd.code_hashes):
                got = cd.hash(body[i * page:min((i + 1) * page, cd.code_limit)])
                if got != expected:
                    problems.append(f"{path.name} ({sig.arch}): page {i} (bytes {i * page}-"
                                    f"{min((i + 1) * page, cd.code_limit)}) does not match its signed hash")
    return problems

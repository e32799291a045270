"""Per-file response material, cached by (mtime, size, inode): validators, type, body, gzip.

Apache's formats: ETag `"<size hex>-<mtime in µs hex>"` (FileETag MTime Size), weak
(`W/`) while the file is less than a second old; Last-Modified is the mtime, never
later than now.  Bodies up to BODY_CACHE_MAX are kept in memory; larger files are
sent with sendfile.  gzip bodies are what mod_deflate produces (zlib level 6,
memLevel 9, raw deflate in a 10-byte header with OS=unix and no mtime).  Files over
GZIP_STREAM_MIN are compressed while they are sent (GzipStream), off the event loop.
"""
import asyncio
import time
import zlib

from apaf.staticsite.mimetypes import describe

BODY_CACHE_MAX = 256 * 1024
CACHE_MAX_FILES = 2048
CACHE_MAX_BYTES = 64 * 1024 * 1024
# mod_deflate's AddOutputFilterByType list in Debian's deflate.conf.
DEFLATE_TYPES = frozenset((
    "text/html", "text/plain", "text/xml", "text/css", "text/javascript",
    "application/x-javascript", "application/javascript", "application/ecmascript",
    "application/rss+xml", "application/wasm", "application/xml"))
# mod_deflate leaves bodies shorter than this alone (and then sends no Vary).
DEFLATE_MIN = 69
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
# Above this many bytes of input mod_deflate hands on output before the end of the file
# (measured against Debian's Apache 2.4.71: 65536 bytes get a Content-Length, 65537 not).
GZIP_STREAM_MIN = 65536
GZIP_BLOCK = 256 * 1024


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(seconds):
    """RFC 7231's IMF-fixdate, in English whatever the locale (email.utils.formatdate with
    usegmt=True writes the same; importing email.utils costs each static site ~0.6 MB)."""
    t = time.gmtime(seconds)
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)


def _compressor():
    return zlib.compressobj(6, zlib.DEFLATED, -15, 9)


def gzip_bytes(data):
    """mod_deflate's output for data, byte for byte."""
    comp = _compressor()
    return (GZIP_HEADER + comp.compress(data) + comp.flush()
            + zlib.crc32(data).to_bytes(4, "little") + len(data).to_bytes(4, "little"))


class GzipStream:
    """gzip_bytes() of a file, produced block by block while it is sent.

    `async for piece in GzipStream(path)` yields the same bytes as gzip_bytes() of the
    whole file, never holding more than one block of it; reading and compressing run in
    the default executor (zlib releases the GIL), so a large file costs the event loop
    nothing and other connections keep being served.
    """

    def __init__(self, path):
        self.path = path

    async def __aiter__(self):
        loop = asyncio.get_running_loop()
        comp, crc, size = _compressor(), 0, 0
        with open(self.path, "rb") as f:
            yield GZIP_HEADER
            while True:
                data = await loop.run_in_executor(None, f.read, GZIP_BLOCK)
                if not data:
                    break
                crc, size = zlib.crc32(data, crc), size + len(data)
                out = await loop.run_in_executor(None, comp.compress, data)
                if out:
                    yield out
        yield comp.flush() + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")


class Entry:
    """What a response about one file version needs."""

    __slots__ = ("key", "path", "size", "mtime", "etag_core", "ctype", "language", "body",
                 "_gz", "deflate", "type_headers")

    def __init__(self, path, st, name):
        self.key = (st.st_mtime_ns, st.st_size, st.st_ino)
        self.path = path
        self.size = st.st_size
        self.mtime = st.st_mtime_ns // 1_000_000_000
        self.etag_core = "%x-%x" % (st.st_size, st.st_mtime_ns // 1000)
        self.ctype, kind, self.language = describe(name)
        self.deflate = kind in DEFLATE_TYPES and self.size >= DEFLATE_MIN
        # The last headers of an answer about this file, in Apache's order.
        self.type_headers = ([("Content-Type", self.ctype)] if self.ctype else []) + (
            [("Content-Language", self.language)] if self.language else [])
        self.body = None
        if self.size <= BODY_CACHE_MAX:
            with open(path, "rb") as f:
                self.body = f.read()
        self._gz = None

    def etag(self, now, gzip=False):
        weak = "W/" if now - self.mtime <= 1 else ""
        return f'{weak}"{self.etag_core}{"-gzip" if gzip else ""}"'

    def last_modified(self, now):
        return http_date(min(self.mtime, now))

    def gz(self):
        if self._gz is not None:
            return self._gz
        data = self.body
        if data is None:
            with open(self.path, "rb") as f:
                data = f.read()
        out = gzip_bytes(data)
        if self.body is not None:
            self._gz = out
        return out


class FileCache:
    """Entries by path; a changed file (mtime, size or inode) gets a fresh entry."""

    def __init__(self):
        self._entries = {}
        self._bytes = 0

    def get(self, path, st, name):
        entry = self._entries.get(path)
        if entry is not None and entry.key == (st.st_mtime_ns, st.st_size, st.st_ino):
            return entry
        entry = Entry(path, st, name)
        if len(self._entries) >= CACHE_MAX_FILES or self._bytes > CACHE_MAX_BYTES:
            self._entries.clear()
            self._bytes = 0
        self._entries[path] = entry
        self._bytes += 2 * len(entry.body or b"")
        return entry

"""Map a request path to a file under the docroot, with Apache's rules and a short cache.

Apache's order is kept: escapes are checked (bad `%` → 400), dot-segments resolved
(above the root → 400), then `%2F` and `%00` give 404 (AllowEncodedSlashes Off).
Names starting with `.ht` are 403 (Debian's <FilesMatch "^\\.ht">), and so are
/server-status and the paths below it (see LOCAL_ONLY).  A directory without the
trailing slash redirects; with it, the first existing DirectoryIndex file
is served, and no index means 403 (Options -Indexes).  One deliberate difference
from the reference Apache: a symlink leading out of the docroot is 403, never
followed.  Results are cached for CACHE_SECONDS, so edits to the site show within a
second without a stat storm per request.
"""
import os
import re
import stat
import time

INDEXES = ("index.html", "index.cgi", "index.pl", "index.php", "index.xhtml", "index.htm")
CACHE_SECONDS = 1.0
CACHE_MAX = 4096

FILE, INDEX, NO_INDEX, REDIRECT, NOT_FOUND, FORBIDDEN, BAD_REQUEST, ENCODED_NOT_FOUND = range(8)

# Debian enables mod_status with <Location /server-status> Require local: its page for
# 127.0.0.1, a 403 for everyone else.  Tor's connections come from 127.0.0.1, which is how
# stock servers leak that page over onions; the 403 is what the rest of the world gets.
LOCAL_ONLY = "server-status"

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class Resolved:
    """kind plus, for FILE/INDEX, the file path and its stat; `name` drives the type."""

    __slots__ = ("kind", "path", "st", "name")

    def __init__(self, kind, path=None, st=None, name=""):
        self.kind, self.path, self.st, self.name = kind, path, st, name


def _decode_unreserved(m):
    ch = int(m.group(1), 16)
    return chr(ch) if ch in _UNRESERVED else m.group(0)


def normalize(raw_path):
    """Return (decoded path bytes, trailing_slash) or a Resolved error (400/404)."""
    if _BAD_ESCAPE.search(raw_path):
        return Resolved(BAD_REQUEST)
    path = _ESCAPE.sub(_decode_unreserved, raw_path)
    out = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if not out:
                return Resolved(BAD_REQUEST)
            out.pop()
        elif seg not in ("", "."):
            out.append(seg)
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    decoded = []
    for seg in out:
        raw = seg.encode("latin-1")
        if b"%" in raw:
            raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
            if b"/" in raw or b"\x00" in raw:
                return Resolved(ENCODED_NOT_FOUND)
        decoded.append(raw)
    return decoded, trailing


class Resolver:
    """Resolve URL paths against one docroot (cached; call `resolve(raw_path)`).

    root=None: no files at all (an app that answers only its own routes): every path that
    is not refused is NOT_FOUND."""

    def __init__(self, root):
        self.root = os.path.realpath(root) if root is not None else None
        self._cache = {}

    def resolve(self, raw_path):
        now = time.monotonic()
        hit = self._cache.get(raw_path)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        result = self._resolve(raw_path)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[raw_path] = (now, result)
        return result

    def _inside(self, path):
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root + os.sep)

    def _resolve(self, raw_path):
        norm = normalize(raw_path)
        if isinstance(norm, Resolved):
            return norm
        segments, trailing = norm
        names = [os.fsdecode(s) for s in segments]
        last = names[-1] if names else ""
        if last.startswith(".ht") or names[:1] == [LOCAL_ONLY]:
            return Resolved(FORBIDDEN, name=last)
        if self.root is None:
            return Resolved(NOT_FOUND, name=last)
        path = self.root
        for i, name in enumerate(names):
            path = os.path.join(path, name)
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError, ValueError):
                return Resolved(NOT_FOUND, name=last)
            except OSError:
                return Resolved(FORBIDDEN, name=last)
            if not self._inside(path):
                return Resolved(FORBIDDEN, name=last)
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                return Resolved(FORBIDDEN, name=last)
            if i < len(names) - 1 or trailing:
                # PATH_INFO after a file: 404 (AcceptPathInfo Default), typed by the file.
                return Resolved(NOT_FOUND, path, st, name)
            return self._file(FILE, path, st, name)
        if names and not trailing:
            return Resolved(REDIRECT, name=last)
        for index in INDEXES:
            candidate = os.path.join(path, index)
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and self._inside(candidate):
                return self._file(INDEX, candidate, st, index)
        return Resolved(NO_INDEX, path, name="")

    @staticmethod
    def _file(kind, path, st, name):
        if not os.access(path, os.R_OK):
            return Resolved(FORBIDDEN, name=name)
        return Resolved(kind, path, st, name)

"""Content-Type by file name, as Debian's Apache (mod_mime with mime.conf) decides it.

mod_mime looks at every extension after the first dot, lower-cased, and the last
one it knows wins ("a.html.zzz" is text/html); a name with no known extension gets
no Content-Type at all (Apache 2.4 has no default type).  Charset and language
extensions (AddCharset, AddLanguage) are not reproduced.
"""
from apaf.staticsite.mime_data import MIME_TYPES

# Debian's mods-available/mime.conf on top of /etc/mime.types.
_ADD_TYPE = {"z": "application/x-compress", "gz": "application/x-gzip",
             "tgz": "application/x-gzip", "bz2": "application/x-bzip2",
             "shtml": "text/html"}
_REMOVE_TYPE = {"es", "tr"}


def _load():
    table = {}
    for line in MIME_TYPES.splitlines():
        kind, *exts = line.split()
        for ext in exts:
            table[ext.lower()] = kind
    table.update(_ADD_TYPE)
    for ext in _REMOVE_TYPE:
        table.pop(ext, None)
    return table


TYPES = _load()


def content_type(filename):
    """The media type Apache would send for this file name, or None for none."""
    found = None
    for ext in filename.split(".")[1:]:
        kind = TYPES.get(ext.lower())
        if kind:
            found = kind
    return found

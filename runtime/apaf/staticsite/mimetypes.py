"""Content-Type and Content-Language by file name, as Debian's Apache (mod_mime) decides.

mod_mime looks at every extension after the first dot, lower-cased: the last type
it knows wins ("a.html.zzz" is text/html), a charset extension adds `; charset=`
(lower-cased, only when there is a type), language extensions add up
("a.en.de.html" is `Content-Language: en,de`).  A name with no known type gets no
Content-Type at all (Apache 2.4 has no default type).
"""
from apaf.staticsite.mime_data import CHARSETS, LANGUAGES, MIME_TYPES

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


def describe(filename):
    """Return (Content-Type value or None, bare media type or None, Content-Language or None)."""
    kind = charset = None
    languages = []
    for ext in filename.split(".")[1:]:
        ext = ext.lower()
        kind = TYPES.get(ext, kind)
        charset = CHARSETS.get(ext, charset)
        if ext in LANGUAGES:
            languages.append(LANGUAGES[ext].lower())
    header = kind
    if kind and charset:
        header = f"{kind}; charset={charset.lower()}"
    return header, kind, ",".join(languages) or None


def content_type(filename):
    """The Content-Type value Apache would send for this file name, or None for none."""
    return describe(filename)[0]

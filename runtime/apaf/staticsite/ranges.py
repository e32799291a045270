"""Range and conditional-request rules of Apache 2.4's core (ap_meets_conditions, byterange filter).

`parse_ranges(header, size)` returns None (ignore the header: send 200), [] (nothing
satisfiable: 416) or the merged list of (first, last) byte positions.
`check_conditions(headers, etag, mtime, now, method)` returns None, 304 or 412.
"""
from email.utils import parsedate_to_datetime

MAX_RANGES = 200


def parse_ranges(header, size):
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    out = []
    for part in spec.split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if not dash or not (first or last):
            return None
        if (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        if not first:
            start, end = max(size - int(last), 0), size - 1
            if int(last) == 0:
                continue
        else:
            start = int(first)
            if last and int(last) < start:
                return None
            end = min(int(last), size - 1) if last else size - 1
        if start >= size:
            continue
        if out and start <= out[-1][1] + 1 and end >= out[-1][0] - 1:
            out[-1] = (min(start, out[-1][0]), max(end, out[-1][1]))
        else:
            out.append((start, end))
    if len(out) > MAX_RANGES:
        return None
    return out


def parse_http_date(value):
    """Seconds since the epoch, or None; like apr_date_parse_http, 0 counts as invalid."""
    try:
        when = int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when or None


def _etag_list(value):
    return [t.strip() for t in value.split(",")]


def _strong(tag):
    return not tag.startswith("W/")


def check_conditions(headers, etag, mtime, now, method):
    """Apache's answer to If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since."""
    if_match = headers.get("if-match")
    if if_match is not None:
        if if_match.strip() != "*" and not (
                _strong(etag) and etag in _etag_list(if_match)):
            return 412
    else:
        ius = headers.get("if-unmodified-since")
        if ius is not None:
            when = parse_http_date(ius)
            if when is not None and mtime > when:
                return 412
    inm = headers.get("if-none-match")
    if inm is not None:
        weak_etag = etag[2:] if etag.startswith("W/") else etag
        tags = [t[2:] if t.startswith("W/") else t for t in _etag_list(inm)]
        if inm.strip() == "*" or weak_etag in tags:
            return 304 if method in ("GET", "HEAD") else 412
        return None
    ims = headers.get("if-modified-since")
    if ims is not None and method in ("GET", "HEAD"):
        when = parse_http_date(ims)
        if when is not None and when <= now and mtime <= when:
            return 304
    return None


def if_range_matches(value, etag, last_modified):
    """If-Range: a strong ETag must equal ours; a date must equal Last-Modified exactly."""
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return _strong(etag) and value == etag
    return value == last_modified

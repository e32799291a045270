"""Range and conditional-request rules of Apache 2.4's core (ap_meets_conditions, byterange filter).

`parse_ranges(header, size)` returns None (ignore the header: send 200), [] (nothing
satisfiable: 416) or the merged list of (first, last) byte positions, by the rules of
Apache 2.4.71's ap_set_byterange and byterange filter with their default limits.
`check_conditions(headers, etag, mtime, now, method)` returns None, 304 or 412.
"""
import datetime
import re

# email.utils.parsedate_to_datetime's own parser, without what importing email.utils brings
# along (email.charset, base64mime, quoprimime, encoders, errors: ~0.6 MB of every static site).
from email._parseaddr import _parsedate_tz

# Apache's defaults for MaxRanges, MaxRangeOverlaps and MaxRangeReversals: a header
# over any of them is ignored (the whole file, 200), never an error.
MAX_RANGES = 200
MAX_OVERLAPS = 20
MAX_REVERSALS = 20
# apr_off_t is signed 64-bit: a larger number fails to parse and the header is ignored.
_OFF_MAX = (1 << 63) - 1
# Apache accepts only plain digits (no sign, no blanks, no other digit characters).
_DIGITS = re.compile(r"[0-9]+\Z")


def _number(text):
    if not _DIGITS.match(text):
        return None
    value = int(text)
    return value if value <= _OFF_MAX else None


def parse_ranges(header, size):
    """Apache's answer to `Range: header` on a body of `size` bytes (see the module doc).

    Adjacent or overlapping specs are merged only with the run just before them, as
    Apache does, and the answer is ignored (200) when more than MAX_RANGES parts remain,
    when merging took more than MAX_OVERLAPS overlaps or MAX_REVERSALS steps backwards,
    or when the parts together are longer than the file: so one request can never make
    a response larger than the file plus the multipart framing.
    """
    if size <= 0 or header[:6].lower() != "bytes=":
        return None
    out = []
    overlaps = reversals = 0
    unsatisfiable = False
    current = None  # the run being merged: [start, end]
    # Apache's ap_getword: empty items between commas are skipped, an empty item at the
    # start or the end stops the list.
    for item in re.split(",+", header[6:]):
        if not item:
            break
        first, dash, last = item.partition("-")
        if not dash:
            return None
        if not first:
            count = _number(last)
            if count is None or count < 1:
                return None
            start, end = max(size - count, 0), size - 1
        else:
            start = _number(first)
            if start is None:
                return None
            if last:
                end = _number(last)
                if end is None or start > end:
                    return None
            else:
                end = size - 1
                if start == 0:  # "0-" means the whole file, whatever else was asked
                    out, current, unsatisfiable = [], [0, end], False
                    break
        if start >= size:
            unsatisfiable = True
            continue
        end = min(end, size - 1)
        if current is None:
            current = [start, end]
            continue
        merged = current[0] <= start and end <= current[1]
        if start < current[0] and end >= current[0] - 1:
            current[0] = start
            reversals += 1
            merged = True
        if end >= current[1] and start <= current[1] + 1:
            current[1] = end
            merged = True
        if merged:
            overlaps += 1
        else:
            out.append(tuple(current))
            current = [start, end]
    if current is not None:
        out.append(tuple(current))
    elif not out and unsatisfiable:
        return []
    if (not out or sum(e - s + 1 for s, e in out) > size or len(out) > MAX_RANGES
            or overlaps > MAX_OVERLAPS or reversals > MAX_REVERSALS):
        return None
    return out


def parse_http_date(value):
    """Seconds since the epoch, or None; like apr_date_parse_http, 0 counts as invalid."""
    try:
        *fields, offset = _parsedate_tz(value)  # None (not a date): TypeError
        # As parsedate_to_datetime: a date without a zone is local time, and datetime
        # refuses what no calendar has (day 32, hour 25).
        zone = None if offset is None else datetime.timezone(datetime.timedelta(seconds=offset))
        when = int(datetime.datetime(*fields[:6], tzinfo=zone).timestamp())
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

"""Static-site app without sockets: configuration errors, tor2web refusal, edits showing up."""
import asyncio
import os
import time

import pytest

from apaf.staticsite import paths
from apaf.staticsite.app import ConfigError, config
from apaf.staticsite.files import GzipStream, gzip_bytes
from apaf.staticsite.ranges import parse_ranges
from apaf.staticsite.request import ChunkedBody, HttpError, parse_head
from apaf.staticsite.site import Site
from apaf.web.apache_pages import draw_allow, error_page


def ask(site, raw, now=None):
    return site.respond(parse_head(raw), now or int(time.time()))


@pytest.fixture
def site_dir(tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "index.html").write_text("<p>hello</p>\n")
    return tmp_path


def test_tor2web_is_refused_with_apaches_403(site_dir):
    site = Site(str(site_dir / "public"))
    resp = ask(site, b"GET / HTTP/1.1\r\nHost: x.onion\r\nX-Tor2web: 1\r\n\r\n")
    assert resp.status == 403
    assert resp.body == error_page(403)
    assert b"hello" not in resp.body


def test_tor2web_allowed_when_the_user_says_so(site_dir):
    site = Site(str(site_dir / "public"), allow_tor2web=True)
    resp = ask(site, b"GET / HTTP/1.1\r\nHost: x.onion\r\nX-Tor2web: 1\r\n\r\n")
    assert resp.status == 200 and resp.body == b"<p>hello</p>\n"


def test_an_edited_file_is_served_within_a_second(site_dir):
    site = Site(str(site_dir / "public"))
    first = ask(site, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    page = site_dir / "public" / "index.html"
    page.write_text("<p>changed</p>\n")
    os.utime(page, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    time.sleep(1.1)
    second = ask(site, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert second.body == b"<p>changed</p>\n"
    assert dict(first.headers)["ETag"] != dict(second.headers)["ETag"]


@pytest.mark.parametrize("raw,status", [
    (b"GET / HTTP/1.1\r\n\r\n", 400),                       # no Host
    (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),           # two spaces
    (b"GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
])
def test_malformed_heads_are_refused(raw, status):
    with pytest.raises(HttpError) as e:
        parse_head(raw)
    assert e.value.status == status


def test_config_reads_the_runtime_environment(site_dir):
    env = {"APAF_PORT": "8080", "APAF_APP_DIR": str(site_dir), "APAF_SETTINGS": "{}"}
    docroot, host, port, name, allow = config(env)
    assert docroot == str(site_dir / "public")
    assert (host, port, name, allow) == ("127.0.0.1", 8080, "localhost", False)


@pytest.mark.parametrize("env,words", [
    ({"APAF_PORT": "x"}, ["APAF_PORT", "apaf run"]),
    ({"APAF_PORT": "80", "APAF_SETTINGS": "{"}, ["APAF_SETTINGS", "[settings]"]),
    ({"APAF_PORT": "80", "APAF_SETTINGS": '{"root": "nope"}'}, ["[settings].root", "nope"]),
])
def test_config_errors_name_the_setting_and_the_fix(site_dir, env, words):
    env = dict(env, APAF_APP_DIR=str(site_dir))
    with pytest.raises(ConfigError) as e:
        config(env)
    for word in words:
        assert word in str(e.value)


def test_a_file_removed_after_it_was_resolved_is_404_not_500(site_dir):
    site = Site(str(site_dir / "public"))
    page = site_dir / "public" / "gone.html"
    page.write_text("x" * 300_000)  # too big for the memory cache: opened per request
    assert ask(site, b"GET /gone.html HTTP/1.1\r\nHost: x\r\n\r\n").status == 200
    page.unlink()
    site.files = type(site.files)()  # forget the cached entry; the path cache still has it
    assert ask(site, b"GET /gone.html HTTP/1.1\r\nHost: x\r\n\r\n").status == 404


@pytest.mark.parametrize("path,expected", [
    ("/a/./b/../c", ([b"a", b"c"], False)),
    ("/a//b/", ([b"a", b"b"], True)),
    ("/caf%C3%A9", ([b"caf\xc3\xa9"], False)),
    ("/%2e%2e/x", paths.BAD_REQUEST),          # dot-segments are found even when escaped
    ("/../x", paths.BAD_REQUEST),
    ("/%zz", paths.BAD_REQUEST),
    ("/a%2Fb", paths.ENCODED_NOT_FOUND),       # AllowEncodedSlashes Off
    ("/a%00", paths.ENCODED_NOT_FOUND),
])
def test_path_normalisation_follows_apache(path, expected):
    got = paths.normalize(path)
    if isinstance(expected, int):
        assert got.kind == expected
    else:
        assert got == expected


@pytest.mark.parametrize("header,size,expected", [
    ("bytes=0-9", 100, [(0, 9)]),
    ("bytes=-5", 100, [(95, 99)]),
    ("bytes=90-", 100, [(90, 99)]),
    ("bytes=0-9,5-15", 100, [(0, 15)]),       # overlapping ranges are merged
    ("bytes=0-1,50-60", 100, [(0, 1), (50, 60)]),
    ("bytes=200-", 100, []),                  # nothing satisfiable: 416
    ("bytes=9-0", 100, None),                 # malformed: ignored, 200
    ("items=0-9", 100, None),
    ("bytes=0-50000,50002-99999," * 29 + "0-50000,50002-99999", 102400, None),  # > the file
    ("bytes=" + ",".join(["0-5"] * 22), 100, None),            # 21 overlaps (> 20)
    ("bytes=" + ",".join(["0-5"] * 21), 100, [(0, 5)]),        # 20 overlaps
    ("bytes=" + ",".join("%d-%d" % (i * 3, i * 3) for i in range(201)), 1000, None),  # > 200
    ("bytes=0-1, 4-5", 100, None),            # Apache's numbers are digits only
    ("bytes=-0", 100, None),
    ("bytes=0-1,,4-5,", 100, [(0, 1), (4, 5)]),
    ("bytes=0-1", 0, None),                   # an empty file is never ranged
])
def test_ranges_follow_apache(header, size, expected):
    assert parse_ranges(header, size) == expected


@pytest.mark.parametrize("split", [1, 7, 4096])
def test_a_chunked_body_is_skipped_however_it_is_split(split):
    body = b"1\r\nx\r\n" * 500 + b"a;ext=1\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
    reader, buf, done = ChunkedBody(), bytearray(), False
    for i in range(0, len(body + b"NEXT"), split):
        buf += (body + b"NEXT")[i:i + split]
        if not done:
            used, done = reader.consume(buf)
            del buf[:used]
    assert done and bytes(buf) == b"NEXT"


@pytest.mark.parametrize("body", [b"zz\r\n", b"1\r\nxy\r\n", b"-1\r\n"])
def test_a_malformed_chunk_is_apaches_400(body):
    with pytest.raises(HttpError) as err:
        ChunkedBody().consume(bytearray(body))
    assert err.value.status == 400 and err.value.unframed


def test_streamed_gzip_is_byte_for_byte_the_whole_file_gzip(tmp_path):
    data = os.urandom(300_000) + b"compressible " * 50_000
    path = tmp_path / "large.html"
    path.write_bytes(data)

    async def collect():
        return b"".join([piece async for piece in GzipStream(str(path))])
    assert asyncio.run(collect()) == gzip_bytes(data)


def test_allow_order_is_drawn_like_apaches_hash_seed():
    """One order per process, a different one after a restart now and then, like Apache."""
    orders = {draw_allow() for _ in range(50)}
    assert all(sorted(o.split(",")) == ["GET", "HEAD", "OPTIONS", "POST"] for o in orders)
    assert len(orders) > 1

"""`sources.update` compares upstream's bytes with Debian's and stops on a difference unless a reason is given.

Both mirrors are real and on 127.0.0.1: a plain HTTP "upstream" and a Debian
source archive (Sources index, InRelease clear-signed by a throwaway key
that the private apt root is told to trust) read by the real apt-get the
farm uses. The entry is unsigned, so the comparison is its only cross-check.
"""
from __future__ import annotations

import email.utils
import functools
import hashlib
import http.server
import socket
import subprocess
import threading
import tomllib
from pathlib import Path

import pytest

from builders.errors import ConfigError, SourceError
from builders.sources.debian import SECURITY_SUITES, SUITES
from builders.sources.manifest import load_manifest
from builders.sources.update import repin

OLD = b"thing 1.0 source tree " * 100


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Mirrors:
    """www/upstream/ and www/debian/ served over HTTP on 127.0.0.1, the archive signed by a throwaway key."""

    def __init__(self, root: Path):
        self.www = root / "www"
        (self.www / "upstream").mkdir(parents=True)
        self.gnupg = root / "gnupg"
        self.gnupg.mkdir(mode=0o700)
        self._gpg("--passphrase", "", "--quick-gen-key", "APAF test archive <archive@example.org>",
                  "ed25519", "sign", "1d")
        self.keyring = root / "archive-keyring.gpg"
        self.keyring.write_bytes(subprocess.run(["gpg", "--homedir", str(self.gnupg), "--export"],
                                                check=True, capture_output=True).stdout)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(self.www))
        handler.log_message = lambda *a: None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _gpg(self, *args: str) -> None:
        subprocess.run(["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--homedir", str(self.gnupg),
                        *args], check=True, capture_output=True)

    def publish(self, version: str, upstream: bytes | None, debian: bytes, *, archive: str = "debian",
                suites=SUITES) -> None:
        """Upstream's thing-VERSION.tar.gz and Debian's thing VERSION-1 source package with its orig.

        archive/suites: where Debian carries it (e.g. "debian-security", SECURITY_SUITES);
        upstream None: upstream does not serve it."""
        if upstream is not None:
            (self.www / "upstream" / f"thing-{version}.tar.gz").write_bytes(upstream)
        pool = self.www / archive / "pool" / "main" / "t" / "thing"
        pool.mkdir(parents=True, exist_ok=True)
        files = {f"thing_{version}.orig.tar.gz": debian,
                 f"thing_{version}-1.dsc": f"Format: 3.0 (quilt)\nSource: thing\nVersion: {version}-1\n".encode()}
        for name, data in files.items():
            (pool / name).write_bytes(data)
        stanza = (f"Package: thing\nBinary: thing\nVersion: {version}-1\nMaintainer: Test <t@example.org>\n"
                  "Architecture: any\nFormat: 3.0 (quilt)\nDirectory: pool/main/t/thing\nFiles:\n"
                  + "".join(f" {hashlib.md5(d).hexdigest()} {len(d)} {n}\n" for n, d in files.items())
                  + "Checksums-Sha256:\n" + "".join(f" {_sha(d)} {len(d)} {n}\n" for n, d in files.items()))
        sources = stanza.encode()
        for suite in suites:
            d = self.www / archive / "dists" / suite
            (d / "main" / "source").mkdir(parents=True, exist_ok=True)
            (d / "main" / "source" / "Sources").write_bytes(sources)
            (d / "Release").write_text(
                f"Origin: APAF test\nSuite: {suite}\nCodename: {suite}\n"
                f"Date: {email.utils.formatdate(usegmt=True)}\nArchitectures: amd64\nComponents: main\n"
                f"SHA256:\n {_sha(sources)} {len(sources)} main/source/Sources\n")
            self._gpg("--clearsign", "--output", str(d / "InRelease"), str(d / "Release"))

    def close(self) -> None:
        self.server.shutdown()
        subprocess.run(["gpgconf", "--homedir", str(self.gnupg), "--kill", "all"], capture_output=True)


@pytest.fixture
def mirrors(tmp_path):
    m = Mirrors(tmp_path)
    yield m
    m.close()


def _manifest(path: Path, mirrors: Mirrors, debian_extra: str = "") -> Path:
    path.write_text(f"""# a comment that must survive
[thing]
version = "1.0"
sha256 = "{_sha(OLD)}"
upstream = "{mirrors.url}/upstream/thing-{{version}}.tar.gz"
debian = {{ package = "thing", file = "thing_{{version}}.orig.tar.gz"{debian_extra} }}
signature = "unverified: test entry without a signature"
""")
    return path


def _repin(manifest: Path, mirrors: Mirrors, tmp_path: Path, **kw) -> list[str]:
    kw.setdefault("debian_security_mirror", f"{mirrors.url}/debian-security")
    kw.setdefault("log", lambda m: None)
    return repin("thing", "1.1", manifest_path=manifest, cache=tmp_path / "cache",
                 debian_mirror=f"{mirrors.url}/debian", debian_keyring=str(mirrors.keyring), **kw)


def test_debian_bytes_that_differ_from_upstream_stop_the_repin(mirrors, tmp_path):
    upstream, debian = b"thing 1.1 as upstream published it", b"thing 1.1 with one file changed"
    mirrors.publish("1.1", upstream, debian)
    manifest = _manifest(tmp_path / "sources.toml", mirrors)
    before = manifest.read_bytes()
    with pytest.raises(SourceError) as err:
        _repin(manifest, mirrors, tmp_path)
    msg = str(err.value)
    assert _sha(upstream) in msg and _sha(debian) in msg and "thing_1.1.orig.tar.gz" in msg
    assert "only cross-check" in msg and "--accept-debian-difference" in msg and "nothing was written" in msg
    assert manifest.read_bytes() == before


def test_an_accepted_difference_is_pinned_with_its_reason(mirrors, tmp_path):
    upstream, debian = b"thing 1.1 as upstream published it", b"thing 1.1 repacked without docs/"
    mirrors.publish("1.1", upstream, debian)
    manifest = _manifest(tmp_path / "sources.toml", mirrors)
    reason = "Debian drops the non-free docs/ folder (dfsg repack)"
    notes = _repin(manifest, mirrors, tmp_path, accept_debian_difference=reason)
    assert any(reason in n for n in notes)
    raw = tomllib.loads(manifest.read_text())["thing"]
    assert raw["version"] == "1.1" and raw["sha256"] == _sha(upstream)
    assert raw["debian"]["sha256"] == _sha(debian) and raw["debian"]["differs"] == reason
    pin = load_manifest(manifest)["thing"]
    assert pin.debian.differs == reason and pin.debian.sha256 == _sha(debian)
    assert manifest.read_text().startswith("# a comment that must survive")


def test_identical_bytes_pin_one_hash_and_drop_an_old_repack_note(mirrors, tmp_path):
    same = b"thing 1.1, byte for byte the same on both mirrors"
    mirrors.publish("1.1", same, same)
    manifest = _manifest(tmp_path / "sources.toml", mirrors,
                         f', sha256 = "{_sha(b"old repack")}", differs = "1.0 was repacked"')
    _repin(manifest, mirrors, tmp_path)
    raw = tomllib.loads(manifest.read_text())["thing"]
    assert raw["sha256"] == _sha(same) and raw["debian"] == {"package": "thing", "file": "thing_{version}.orig.tar.gz"}


def test_a_hand_written_debian_hash_without_a_reason_is_refused(mirrors, tmp_path):
    manifest = _manifest(tmp_path / "sources.toml", mirrors, f', sha256 = "{_sha(b"other")}"')
    with pytest.raises(ConfigError, match=r"\[thing\]\.debian: its sha256 differs.*--accept-debian-difference"):
        load_manifest(manifest)


def test_a_version_debian_does_not_carry_is_pinned_with_a_warning(mirrors, tmp_path):
    mirrors.publish("1.0", OLD, OLD)                        # Debian's archive still has only 1.0
    (mirrors.www / "upstream" / "thing-1.1.tar.gz").write_bytes(b"thing 1.1")
    manifest = _manifest(tmp_path / "sources.toml", mirrors)
    notes = _repin(manifest, mirrors, tmp_path)
    assert any("not cross-checked" in n and "no signature" in n for n in notes), notes
    assert load_manifest(manifest)["thing"].sha256 == _sha(b"thing 1.1")


def test_a_security_release_is_found_in_the_security_archive(mirrors, tmp_path):
    # Debian ships security releases in <suite>-security long before a point release (7-Zip 26.02 did).
    mirrors.publish("1.0", OLD, OLD)
    fixed = b"thing 1.1 with the security fix"
    mirrors.publish("1.1", fixed, fixed, archive="debian-security", suites=SECURITY_SUITES)
    manifest = _manifest(tmp_path / "sources.toml", mirrors)
    notes = _repin(manifest, mirrors, tmp_path)
    assert not any("not cross-checked" in n for n in notes), notes   # Debian's copy was found and compared
    assert f"debian sha256 {_sha(fixed)}" in notes[-1], notes
    assert load_manifest(manifest)["thing"].sha256 == _sha(fixed)


def test_a_security_archive_that_does_not_answer_is_passed_over(mirrors, tmp_path):
    mirrors.publish("1.1", None, b"thing 1.1 in the suite")
    # A port nobody listens on, on another loopback address: apt's http method remembers a
    # refused host by name, which would fail the suites' mirror on 127.0.0.1 too (and retries hang).
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        closed = f"http://127.0.0.2:{s.getsockname()[1]}/debian-security"
    manifest = _manifest(tmp_path / "sources.toml", mirrors)
    log = []
    _repin(manifest, mirrors, tmp_path, debian_security_mirror=closed, log=log.append)
    assert load_manifest(manifest)["thing"].sha256 == _sha(b"thing 1.1 in the suite")
    assert any("did not download" in m and closed in m for m in log), log


def test_an_entry_without_upstream_is_pinned_from_debian_alone(mirrors, tmp_path):
    # 7-Zip's case: no upstream URL (its site is not a mirror the farm reads), Debian only.
    mirrors.publish("1.1", None, b"thing 1.1 repack")
    manifest = tmp_path / "sources.toml"
    manifest.write_text(_manifest(manifest, mirrors).read_text().replace(
        f'upstream = "{mirrors.url}/upstream/thing-{{version}}.tar.gz"\n', ""))
    notes = _repin(manifest, mirrors, tmp_path)
    assert any("no upstream URL" in n for n in notes) and not any("not reachable" in n for n in notes), notes
    assert load_manifest(manifest)["thing"].sha256 == _sha(b"thing 1.1 repack")

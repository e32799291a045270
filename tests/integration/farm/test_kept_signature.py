"""GnuPG 1.4.23's tarball, checked by real gpg against upstream's signature kept in tor-src/signatures/.

No mirror serves that signature (Debian's gnupg1 carries no .asc), so the checkout keeps it;
these tests show the kept file is what the store checks, and that it refuses other bytes even
when they come with a matching sha256 pin.
"""
from __future__ import annotations

import hashlib

import pytest

from builders import paths
from builders.errors import SignatureError, SourceError
from builders.sources import SourceStore
from builders.sources.manifest import load_manifest

WERNER_KOCH_DIST_SIG = "D8692123C4065DEA5E0F3AB5249B39D24F25E3B6"


@pytest.fixture(scope="module")
def gnupg_tarball(farm_cache):
    return SourceStore(farm_cache).fetch("gnupg")


def test_the_pinned_tarball_verifies_against_the_kept_upstream_signature(gnupg_tarball):
    assert gnupg_tarball.signer == WERNER_KOCH_DIST_SIG
    store = SourceStore(gnupg_tarball.path.parent.parent)
    again = store.cached(store.manifest["gnupg"], recheck=True)   # gpg runs, whatever the record says
    assert again.signer == WERNER_KOCH_DIST_SIG



def test_other_bytes_pinned_by_their_own_sha256_are_refused_by_the_kept_signature(gnupg_tarball, mirror, tmp_path):
    """A tampered tarball whose pin was edited to match: only the kept signature can catch it."""
    root, url = mirror
    data = bytearray(gnupg_tarball.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    (root / "gnupg-1.4.23.tar.bz2").write_bytes(bytes(data))
    manifest = tmp_path / "sources.toml"   # with the real keys/, so the real kept signature
    manifest.write_text(f'''[gnupg]
version = "1.4.23"
sha256 = "{hashlib.sha256(data).hexdigest()}"
upstream = "{url}/gnupg-{{version}}.tar.bz2"
signature = {{ key = "gnupg.asc", fingerprint = "{WERNER_KOCH_DIST_SIG}", file = "signatures/gnupg-{{version}}.tar.bz2.sig" }}
''')
    store = SourceStore(tmp_path / "cache", manifest=load_manifest(manifest, paths.KEYS), log=lambda *_: None)
    with pytest.raises((SignatureError, SourceError), match="BAD OpenPGP signature"):
        store.fetch("gnupg")
    kept_files = list((tmp_path / "cache" / "sources").glob("gnupg*"))
    assert kept_files == [], f"a refused tarball was kept: {kept_files}"

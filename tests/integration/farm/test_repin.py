"""`sources.update`: re-pinning writes hashes computed from a verified download, or nothing."""
from __future__ import annotations

import shutil

import pytest

from builders import paths
from builders.errors import SourceError
from builders.sources.manifest import load_manifest
from builders.sources.update import repin


@pytest.fixture
def manifest(tmp_path):
    p = tmp_path / "sources.toml"
    shutil.copy(paths.SOURCE_MANIFEST, p)
    return p


def test_repin_writes_the_hash_of_what_the_mirror_serves(manifest, farm_cache):
    """libevent back to 2.1.12-stable, which Debian's archive still serves."""
    notes = repin("libevent", "2.1.12-stable", manifest_path=manifest, cache=farm_cache, log=lambda m: None)
    pin = load_manifest(manifest)["libevent"]
    assert pin.version == "2.1.12-stable"
    assert any(pin.sha256 in n for n in notes)
    assert pin.sha256 != load_manifest()["libevent"].sha256
    # Comments and the other entries survive the rewrite.
    text = manifest.read_text()
    assert "# The pinned source manifest" in text
    assert load_manifest(manifest)["tor"] == load_manifest()["tor"]


def test_repin_checks_the_signature_of_the_new_version(manifest, farm_cache):
    """xz 5.4.1 (still in Debian's archive) is signed by the same pinned key: accepted."""
    repin("xz", "5.4.1", manifest_path=manifest, cache=farm_cache, log=lambda m: None)
    assert load_manifest(manifest)["xz"].version == "5.4.1"


def test_repin_refuses_a_version_without_its_required_signature(manifest, farm_cache, tmp_path):
    """An entry that requires a signature is not re-pinned to a tarball served without one."""
    text = manifest.read_text()
    entry = text.split("[libevent]")[1].split("\n[")[0]
    sig_line = next(l for l in entry.splitlines() if l.startswith("signature"))
    text = text.replace(sig_line, 'signature = { key = "openssl.asc", '
                                  'fingerprint = "BA5473A2B0587B07FB27CF2D216094DFD0CB81EF" }')
    manifest.write_text(text)
    before = manifest.read_bytes()
    with pytest.raises(SourceError, match="required OpenPGP signature"):
        repin("libevent", "2.1.12-stable", manifest_path=manifest, cache=farm_cache, log=lambda m: None)
    assert manifest.read_bytes() == before


def test_repin_unknown_version_is_a_clear_error(manifest, farm_cache):
    before = manifest.read_bytes()
    with pytest.raises(SourceError, match="no mirror served it"):
        repin("bzip2", "9.9.9", manifest_path=manifest, cache=farm_cache, log=lambda m: None)
    assert manifest.read_bytes() == before

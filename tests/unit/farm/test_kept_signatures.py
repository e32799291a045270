"""A signature kept in the checkout (`signature.file`), for a tarball whose mirrors serve none."""
from __future__ import annotations

import shutil

import pytest

from builders import paths
from builders.errors import ConfigError, SourceError
from builders.sources.manifest import load_manifest
from builders.sources.update import repin

ENTRY = '''[thing]
version = "1.0"
sha256 = "{sha}"
upstream = "http://127.0.0.1:9/thing-{{version}}.tar.gz"
signature = {{ key = "gnupg.asc", fingerprint = "D8692123C4065DEA5E0F3AB5249B39D24F25E3B6", file = "sigs/thing-{{version}}.tar.gz.sig" }}
'''.format(sha="0" * 64)


def _manifest(tmp_path, text=ENTRY):
    """A manifest in tmp_path/src/ with its keys folder (tmp_path/src/keys) holding the real gnupg key."""
    (tmp_path / "src" / "keys").mkdir(parents=True, exist_ok=True)
    shutil.copy(paths.KEYS / "gnupg.asc", tmp_path / "src" / "keys")
    p = tmp_path / "src" / "sources.toml"
    p.write_text(text)
    return p


def _load(tmp_path, text=ENTRY):
    return load_manifest(_manifest(tmp_path, text), tmp_path / "src" / "keys")


def test_the_file_is_found_beside_the_keys_folder_for_the_pinned_version(tmp_path):
    (tmp_path / "src" / "sigs").mkdir(parents=True)
    (tmp_path / "src" / "sigs" / "thing-1.0.tar.gz.sig").write_bytes(b"sig")
    sig = _load(tmp_path)["thing"].signature
    assert sig.required and sig.file == tmp_path / "src" / "sigs" / "thing-1.0.tar.gz.sig"


def test_a_missing_kept_signature_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path)
    msg = str(err.value)
    assert "[thing].signature.file" in msg and "sigs/thing-1.0.tar.gz.sig does not exist" in msg
    assert "detached signature of the 1.0 tarball" in msg


def test_an_unknown_signature_field_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="'signature' must be"):
        _load(tmp_path, ENTRY.replace("file =", "sig_file ="))


def test_a_repin_without_the_new_versions_signature_stops_before_any_download(tmp_path):
    """The real gnupg entry (its 1.4.23 signature is in tor-src/signatures/), re-pinned to a 1.4.24."""
    manifest = tmp_path / "sources.toml"
    shutil.copy(paths.SOURCE_MANIFEST, manifest)
    before = manifest.read_text()
    with pytest.raises(SourceError, match=r"gnupg 1\.4\.24: its signature is kept .*gnupg-1\.4\.24\.tar\.bz2\.sig "
                                          r"does not exist"):
        repin("gnupg", "1.4.24", manifest_path=manifest, cache=tmp_path / "cache", log=lambda *_: None)
    assert manifest.read_text() == before


def test_gnupg_is_pinned_to_upstreams_signature_kept_in_the_checkout():
    sig = load_manifest()["gnupg"].signature
    assert sig.file == paths.TOR_SRC / "signatures" / "gnupg-1.4.23.tar.bz2.sig"
    assert sig.key == paths.KEYS / "gnupg.asc" and sig.fingerprint == "D8692123C4065DEA5E0F3AB5249B39D24F25E3B6"

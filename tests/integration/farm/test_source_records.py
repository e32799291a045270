"""A stored tarball's signature is checked once (real gpg), and again whenever what it was
checked on changes: the farm's every command no longer runs gpg per source."""
from __future__ import annotations

import pytest

from builders.errors import SignatureError
from builders.sources import SourceStore, store as store_module


@pytest.fixture
def xz(fresh_cache, farm_cache):
    """A cache holding the signed xz tarball and its .asc (hard links), no record yet."""
    SourceStore(farm_cache).fetch("xz")
    cache = fresh_cache("records")
    store = SourceStore(cache)
    src = store.manifest["xz"]
    for record in (cache / "sources").glob("*.verified"):
        record.unlink()
    return store, src


def test_a_stored_signature_is_checked_once_then_remembered(xz, monkeypatch):
    store, src = xz
    first = store.cached(src)
    assert first.signer == src.signature.fingerprint.upper().replace(" ", "")

    def no_gpg(*args):
        raise AssertionError("the signature was checked again on the same bytes")
    monkeypatch.setattr(store_module, "check_signature", no_gpg)
    assert store.cached(src).signer == first.signer


def test_a_changed_signature_file_is_checked_again_and_refused(xz):
    store, src = xz
    fetched = store.cached(src)
    asc = fetched.path.with_name(fetched.path.name + ".asc")
    data = bytearray(asc.read_bytes())
    asc.unlink()                      # a hard link: leave the shared copy alone
    data[len(data) // 2] ^= 0x01
    asc.write_bytes(bytes(data))
    with pytest.raises(SignatureError):
        store.cached(src)


def test_sources_verify_runs_gpg_again_whatever_the_record_says(xz, monkeypatch):
    store, src = xz
    store.cached(src)                 # the record exists now
    calls = []
    real = store_module.check_signature
    monkeypatch.setattr(store_module, "check_signature", lambda *a: calls.append(a) or real(*a))
    assert store.cached(src, recheck=True).signer
    assert len(calls) == 1

"""Pinned sources: fetched through the real mirrors, and every kind of bad file refused.

Tampered files are served by a real HTTP server on 127.0.0.1 playing the
upstream mirror, with the real pins and signing keys from tor-src/.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import gnupg
import pytest

from builders import paths
from builders.build import Build
from builders.errors import SignatureError, SourceError, VerificationError
from builders.executors import get as get_executor
from builders.progress import PlainProgress
from builders.recipes import load_target
from builders.sources import SourceStore
from builders.sources.manifest import load_manifest


@pytest.fixture(scope="session")
def pinned(farm_cache):
    """Every pinned source, fetched once per run into the session cache (upstream first, then Debian)."""
    store = SourceStore(farm_cache)
    return {name: store.fetch(name) for name in store.manifest}


def test_every_pinned_source_is_fetched_and_verified(pinned):
    manifest = load_manifest()
    assert set(pinned) == set(manifest)
    for name, f in pinned.items():
        assert f.path.is_file()
        if manifest[name].signature.required:
            assert f.signer == manifest[name].signature.fingerprint, name


def test_required_signatures_are_the_ones_debian_carries(pinned):
    required = {n for n, s in load_manifest().items() if s.signature.required}
    assert {"cpython", "openssl", "xz"} <= required



def _xz_store(tmp_path, url_base, pinned) -> tuple[SourceStore, Path]:
    """A store whose only source is the real xz pin, served from the test mirror only."""
    real = (paths.SOURCE_MANIFEST.read_text().split("[xz]")[1].split("\n[")[0])
    lines = [l for l in real.splitlines() if not l.startswith(("upstream", "debian"))]
    manifest = tmp_path / "sources.toml"
    manifest.write_text("[xz]" + "\n".join(lines) + f'\nupstream = "{url_base}/xz-{{version}}.tar.xz"\n')
    cache = tmp_path / "cache"
    return SourceStore(cache, manifest=load_manifest(manifest)), cache / "sources"


def _serve(root: Path, data: bytes, asc: bytes | None, version="5.8.1"):
    (root / f"xz-{version}.tar.xz").write_bytes(data)
    if asc is not None:
        (root / f"xz-{version}.tar.xz.asc").write_bytes(asc)


def _nothing_kept(store_dir: Path):
    kept = [p.name for p in store_dir.iterdir() if not p.name.startswith(".")] if store_dir.exists() else []
    assert kept == [], f"refused file was kept: {kept}"


def test_good_copy_from_upstream_is_accepted(tmp_path, mirror, pinned):
    root, url = mirror
    good = pinned["xz"].path
    _serve(root, good.read_bytes(), Path(str(good) + ".asc").read_bytes())
    store, _ = _xz_store(tmp_path, url, pinned)
    f = store.fetch("xz")
    assert f.signer == "3690C240CE51B4670D30AD1C38EE757D69184620"


def test_one_flipped_byte_is_refused(tmp_path, mirror, pinned):
    root, url = mirror
    data = bytearray(pinned["xz"].path.read_bytes())
    data[len(data) // 2] ^= 0x01
    _serve(root, bytes(data), Path(str(pinned["xz"].path) + ".asc").read_bytes())
    store, store_dir = _xz_store(tmp_path, url, pinned)
    with pytest.raises(SourceError) as err:
        store.fetch("xz")
    msg = str(err.value)
    assert "xz-5.8.1.tar.xz: sha256 mismatch" in msg and pinned["xz"].sha256 in msg
    assert "actual" in msg
    _nothing_kept(store_dir)


def test_truncated_file_is_refused(tmp_path, mirror, pinned):
    root, url = mirror
    data = pinned["xz"].path.read_bytes()
    _serve(root, data[: len(data) // 3], Path(str(pinned["xz"].path) + ".asc").read_bytes())
    store, store_dir = _xz_store(tmp_path, url, pinned)
    with pytest.raises(SourceError, match=r"sha256 mismatch \(size \d+ bytes\)"):
        store.fetch("xz")
    _nothing_kept(store_dir)


def test_missing_required_signature_is_refused(tmp_path, mirror, pinned):
    root, url = mirror
    _serve(root, pinned["xz"].path.read_bytes(), None)
    store, store_dir = _xz_store(tmp_path, url, pinned)
    with pytest.raises(SignatureError, match="required OpenPGP signature .* is missing"):
        store.fetch("xz")
    _nothing_kept(store_dir)


def test_signature_by_another_key_is_refused(tmp_path, mirror, pinned):
    root, url = mirror
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(gpg.gen_key_input(name_real="Mallory", name_email="m@example.invalid",
                                        key_type="EDDSA", key_curve="ed25519", no_protection=True))
    data = pinned["xz"].path.read_bytes()
    sig = gpg.sign(data, keyid=key.fingerprint, detach=True, binary=False)
    _serve(root, data, sig.data)
    store, store_dir = _xz_store(tmp_path, url, pinned)
    with pytest.raises(SignatureError, match="BAD OpenPGP signature|signed by"):
        store.fetch("xz")
    _nothing_kept(store_dir)


def test_corrupted_signature_is_refused(tmp_path, mirror, pinned):
    root, url = mirror
    asc = Path(str(pinned["xz"].path) + ".asc").read_text().splitlines()
    asc[3] = asc[3][:10] + ("A" if asc[3][10] != "A" else "B") + asc[3][11:]
    _serve(root, pinned["xz"].path.read_bytes(), ("\n".join(asc) + "\n").encode())
    store, store_dir = _xz_store(tmp_path, url, pinned)
    with pytest.raises(SignatureError):
        store.fetch("xz")
    _nothing_kept(store_dir)


def test_damaged_cached_tarball_stops_the_build_before_any_step(fresh_cache, pinned):
    cache = fresh_cache("damaged")
    tor = cache / "sources" / pinned["tor"].path.name
    data = bytearray(tor.read_bytes())
    data[100] ^= 0xFF
    tor.unlink()  # hard link: do not damage the shared copy
    tor.write_bytes(bytes(data))
    target = load_target("linux-x86_64")
    build = Build(target, get_executor("local", source_date_epoch=1), cache_root=cache,
                  outputs=["tor"], progress=PlainProgress())
    with pytest.raises(VerificationError, match="sha256 mismatch"):
        build.run()
    assert not (cache / "steps").exists() or not any((cache / "steps").iterdir())


def test_sources_verify_task_reports_damage(tmp_path, pinned, fresh_cache):
    """The CLI a release engineer runs: a damaged cached tarball makes `sources.verify` fail loudly."""
    cache = fresh_cache("verify-cli")
    bz = cache / "sources" / pinned["bzip2"].path.name
    data = bz.read_bytes()
    bz.unlink()
    bz.write_bytes(data[:-10])
    proc = subprocess.run([str(Path(__import__("sys").executable).parent / "invoke"), "sources.verify"],
                          cwd=paths.REPO, env={**__import__("os").environ, "APAF_CACHE": str(cache)},
                          capture_output=True, text=True)
    assert proc.returncode == 11, proc.stdout + proc.stderr
    assert "sha256 mismatch" in proc.stderr and "bzip2" in proc.stderr

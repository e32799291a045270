"""A release of examples/chat built by the local and the docker builder: they agree, it is signed,
carries SBOMs and provenance, `invoke verify` accepts it and refuses it after one flipped byte in
any of its files; a builder that makes other bytes stops the release before anything is signed.

Nothing is built here that the suite does not already build: both builders' steps are in the
run's cache (`chat_bundle` for local; the docker toolchain and bundle of
tests/integration/builders/test_docker.py, which runs earlier, or made once here).
APAF_TEST_DOCKER_CACHE points the docker builder at another cache (a developer's warm one).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.bundle import CHAT

import builders.bundle.release as rel
from builders.errors import BuildersDisagree, FarmError
from builders.release import verify as verify_mod

pytestmark = pytest.mark.timeout(2400)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def caches(farm_cache) -> dict[str, Path]:
    return {"local": farm_cache, "docker": Path(os.environ.get("APAF_TEST_DOCKER_CACHE") or farm_cache)}


@pytest.fixture(scope="module")
def agreed_release(chat_bundle, toolchain_image, caches, release_key, tmp_path_factory):
    import time
    fpr, home, public = release_key
    dist = tmp_path_factory.mktemp("two-builders") / "release"
    started = time.monotonic()
    report = rel.release([CHAT], key=fpr, gnupghome=str(home), dist=dist, builders=["local", "docker"],
                         caches=caches)
    sizes = {n: (dist / n).stat().st_size for n in report["sboms"].values()}
    print(f"\nrelease on local+docker: {time.monotonic() - started:.0f}s wall; SBOM sizes: "
          + ", ".join(f"{n} {s / 1e3:.0f} kB" for n, s in sizes.items()))
    return dist, report, public


def test_both_builders_agree_on_every_artifact_and_verify_accepts(agreed_release):
    dist, report, public = agreed_release
    assert report["cross_checked"] and set(report["artifacts"]) == {
        "chat-1.0.0-linux-x86_64", "chat_1.0.0_amd64.deb", "chat-1.0.0-1.x86_64.rpm"}
    assert all(by == ["docker", "local"] for by in report["agreed"].values()), report["agreed"]
    proc = subprocess.run([sys.executable, "-m", "invoke", "verify", str(dist), "--key", str(public)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "good: 8 files" in proc.stdout and "two builders that agreed" in proc.stdout
    statement = json.loads((dist / "provenance.intoto.json").read_text())
    steps = [b["name"] for b in statement["predicate"]["runDetails"]["byproducts"]]
    assert any(s.startswith("step:docker/chat/linux-x86_64/freeze@gnu") for s in steps)
    assert any(s.startswith("step:local/chat/linux-x86_64/cpython@gnu") for s in steps)
    ids = {d["name"]: d for d in statement["predicate"]["runDetails"]["builder"]["builderDependencies"]}
    assert ids["builder:docker"]["annotations"]["identity"].startswith("docker:sha256:")


def test_published_files_do_not_name_the_release_machine(agreed_release):
    """The release is public; the machine's name can identify an anonymous developer."""
    dist, _, _ = agreed_release
    # As a name of its own: a short host name ("vm") is also part of package names (llvm-14).
    host = re.compile(rf"(?<![\w-]){re.escape(platform.node())}(?![\w-])")
    for f in [*dist.glob("*.json"), dist / "SHA256SUMS"]:
        found = host.search(f.read_text())
        assert not found, f"{f.name} names the release machine: ...{found.string[found.start() - 40:found.end() + 40]}..."


def test_deb_and_rpm_sboms_name_the_static_binary_inside_them(agreed_release):
    dist, report, _ = agreed_release
    static = report["artifacts"]["chat-1.0.0-linux-x86_64"]
    for pkg in ("chat_1.0.0_amd64.deb", "chat-1.0.0-1.x86_64.rpm"):
        doc = json.loads((dist / report["sboms"][pkg]).read_text())
        (inner,) = doc["metadata"]["component"]["components"]
        assert inner["name"] == "opt/chat/chat" and inner["hashes"][0]["content"] == static
        refs = {c["bom-ref"] for c in doc["components"]}
        assert {"source:tor", "source:cpython", "tool:dpkg-deb", "tool:pyinstaller", "builder:docker"} <= refs
        builder = next(c for c in doc["components"] if c["bom-ref"] == "builder:docker")
        assert len(builder["components"]) > 100, "the image's Debian packages"


# the signed files (and their signatures) fail on the signature, every other file on its hash
EXPECTED = {"SHA256SUMS": 31, "SHA256SUMS.asc": 31, "provenance.intoto.json": 31, "provenance.intoto.json.asc": 31}


def test_verify_refuses_one_flipped_byte_in_any_file(agreed_release, tmp_path):
    dist, _, public = agreed_release
    names = sorted(p.name for p in dist.iterdir())
    assert len(names) == 11   # 3 bundles, 3 SBOMs, report, provenance + .asc, SHA256SUMS + .asc
    for name in names:
        copy = tmp_path / name / "release"
        shutil.copytree(dist, copy, copy_function=os.link)   # links: only the flipped file is new
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / name).unlink()
        (copy / name).write_bytes(bytes(data))
        with pytest.raises(FarmError) as err:
            verify_mod.verify(copy, public)
        assert err.value.exit_code == EXPECTED.get(name, 32), (name, str(err.value))
        assert name.removesuffix(".asc") in str(err.value), (name, str(err.value))
        shutil.rmtree(tmp_path / name)


def test_verify_exit_codes_on_the_command_line(agreed_release, tmp_path):
    dist, _, public = agreed_release
    copy = tmp_path / "release"
    shutil.copytree(dist, copy, copy_function=os.link)
    (copy / "chat_1.0.0_amd64.deb").unlink()
    (copy / "chat_1.0.0_amd64.deb").write_bytes(b"not the package")
    proc = subprocess.run([sys.executable, "-m", "invoke", "verify", str(copy), "--key", str(public)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 32 and "chat_1.0.0_amd64.deb: sha256" in proc.stderr, proc.stderr
    (copy / "chat_1.0.0_amd64.deb").unlink()
    os.link(dist / "chat_1.0.0_amd64.deb", copy / "chat_1.0.0_amd64.deb")
    (copy / "extra.txt").write_text("slipped in")
    proc = subprocess.run([sys.executable, "-m", "invoke", "verify", str(copy), "--key", str(public)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 32 and "extra.txt" in proc.stderr, proc.stderr
    (copy / "extra.txt").unlink()
    home = tmp_path / "other-gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    subprocess.run([*gpg, "--passphrase", "", "--quick-gen-key", "Someone else <else@example.org>", "ed25519",
                    "sign", "1d"], check=True, capture_output=True)
    other = tmp_path / "other.asc"
    other.write_bytes(subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True).stdout)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "invoke", "verify", str(copy), "--key", str(other)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 31 and "SHA256SUMS.asc is not a good signature" in proc.stderr, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "invoke", "verify", str(copy), "--key", str(public)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_a_standin_builder_that_flips_a_byte_stops_the_release_before_signing(
        agreed_release, caches, release_key, tmp_path, monkeypatch):
    """Stand-in: the docker builder's real build, then one byte of its static bundle flipped
    (no real builder here differs); the release must stop before signing, naming the artifact."""
    fpr, home, _ = release_key
    real = rel.build_app

    def differing(app, target, *, dist, builder, **kw):
        result = real(app, target, dist=dist, builder=builder, **kw)
        if builder == "docker":
            static = result.files["static"]
            data = bytearray(static.read_bytes())
            data[len(data) // 3] ^= 0x01
            static.write_bytes(bytes(data))
        return result

    monkeypatch.setattr(rel, "build_app", differing)
    dist = tmp_path / "release"
    with pytest.raises(BuildersDisagree) as err:
        rel.release([CHAT], key=fpr, gnupghome=str(home), dist=dist, builders=["local", "docker"], caches=caches)
    assert "chat-1.0.0-linux-x86_64" in str(err.value) and err.value.exit_code == 5
    assert not list(dist.glob("*.asc")) and not (dist / "SHA256SUMS").exists(), "nothing signed"
    report = dist / "chat-1.0.0-linux-x86_64.diffoscope.txt"
    assert report.is_file() and report.stat().st_size > 0
    assert (dist / "local" / "chat-1.0.0-linux-x86_64").is_file() and (dist / "docker" / "chat-1.0.0-linux-x86_64").is_file()
    assert json.loads((dist / "release-report.json").read_text())["differ"].keys() == {"chat-1.0.0-linux-x86_64"}

"""Bad farm configuration gets an error naming the file, the field and the fix."""
from __future__ import annotations

import pytest

from builders import paths
from builders.errors import ConfigError
from builders.executors import get as get_executor
from builders.recipes import load_recipe, load_target
from builders.sources.debian import machine_mirror, machine_security_mirror
from builders.sources.manifest import load_manifest

GOOD = '''[zlib]
version = "1.3.1"
sha256 = "9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23"
upstream = "https://example.invalid/zlib-{version}.tar.gz"
signature = "unverified: test"
'''


def _manifest(tmp_path, text):
    p = tmp_path / "sources.toml"
    p.write_text(text)
    return p


def test_the_real_manifest_loads():
    pins = load_manifest()
    assert {"tor", "openssl", "libevent", "zlib", "cpython", "libffi", "xz", "bzip2", "sqlite"} <= set(pins)
    assert pins["zlib"].upstream.endswith("zlib-1.3.1.tar.gz")


def test_good_entry_loads(tmp_path):
    assert load_manifest(_manifest(tmp_path, GOOD))["zlib"].version == "1.3.1"


@pytest.mark.parametrize("bad, words", [
    (GOOD.replace('sha256 = "9a93', 'sha256 = "XYZ'), ["[zlib].sha256", "64 lowercase hex", "sources.update"]),
    (GOOD.replace('sha256 = ', 'sha265 = '), ["unknown key 'sha265'", "did you mean 'sha256'"]),
    (GOOD.replace('signature = "unverified: test"', 'signature = "trust me"'), ["[zlib]: 'signature' must be"]),
    (GOOD.replace('signature = "unverified: test"', 'signature = "unverified:"'), ["'signature' must be"]),
    (GOOD.replace('signature = "unverified: test"',
                  'signature = { key = "nope.asc", fingerprint = "' + "A" * 40 + '" }'),
     ["nope.asc does not exist", "add the signer's public key"]),
    (GOOD.replace('upstream = "https://example.invalid/zlib-{version}.tar.gz"\n', ''), ["no mirror"]),
    (GOOD + "[broken\n", ["not valid TOML"]),
])
def test_bad_manifest_entries(tmp_path, bad, words):
    with pytest.raises(ConfigError) as err:
        load_manifest(_manifest(tmp_path, bad))
    msg = str(err.value)
    assert "sources.toml" in msg
    for w in words:
        assert w in msg, msg


def test_unknown_target_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown target 'linux-x86-64'; known targets: .*linux-x86_64"):
        load_target("linux-x86-64")


def test_unknown_recipe_lists_the_known_ones():
    with pytest.raises(ConfigError, match="no recipe 'tor2'.*known recipes: .*tor"):
        load_recipe("tor2")


def test_target_output_with_undefined_toolchain(tmp_path):
    (tmp_path / "t.toml").write_text('[toolchains.gnu]\nCC="gcc"\n[outputs]\ntor = "musl"\n')
    with pytest.raises(ConfigError, match=r"\[outputs\].tor uses toolchain 'musl'"):
        load_target("t", tmp_path)


def test_unknown_builder_names_the_choices():
    with pytest.raises(ConfigError, match="unknown builder 'dockr'.*local"):
        get_executor("dockr")


def test_every_recipe_has_a_readme_saying_why():
    for d in paths.RECIPES.iterdir():
        if d.is_dir():
            assert (d / "README.md").is_file(), f"{d.name} has no README.md"


def test_mirror_is_read_from_deb822_sources(tmp_path):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.test/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n")
    assert machine_mirror(etc) == "http://mirror.test/debian"


def test_mirror_is_read_from_one_line_sources(tmp_path):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://mirror.test/deb trixie main\n")
    assert machine_mirror(etc) == "http://mirror.test/deb"


def test_security_archive_is_read_apart_from_the_suites(tmp_path):
    # Security releases (7-Zip 26.02) wait in <suite>-security, which has its own address.
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.test/debian-security/\nSuites: bookworm-security\nComponents: main\n")
    assert machine_mirror(etc) == "http://mirror.test/debian"
    assert machine_security_mirror(etc) == "http://security.test/debian-security"
    (etc / "sources.list.d" / "debian.sources").unlink()
    (etc / "sources.list").write_text("deb http://mirror.test/debian trixie main\n"
                                      "deb http://security.test/ds trixie-security main\n")
    assert machine_security_mirror(etc) == "http://security.test/ds"
    (etc / "sources.list").write_text("deb http://mirror.test/debian trixie main\n")
    assert machine_security_mirror(etc) is None


def test_no_debian_source_means_none(tmp_path):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / "x.list").write_text(
        "deb https://apt.vendor.test/linux/debian bookworm stable\n"
        "deb https://apt.other.test/ nodistro main\n")
    assert machine_mirror(etc) is None

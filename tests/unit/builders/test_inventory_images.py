"""SSH inventory and image definitions: bad input names the file, the key and the fix."""
from __future__ import annotations

import pytest

from builders import images
from builders.errors import ConfigError
from builders.inventory import get_host, load_inventory
from builders.recipes import load_target


def test_inventory_resolves_paths_next_to_itself_and_fills_defaults(tmp_path):
    inv = tmp_path / "builders.toml"
    inv.write_text('[builders.b1]\nhost = "10.0.0.5"\nkey = "keys/id"\nknown_hosts = "kh"\n')
    h = get_host("b1", inv)
    assert (h.key, h.known_hosts) == (tmp_path / "keys/id", tmp_path / "kh")
    assert (h.port, h.user, h.retries, h.work_dir) == (22, "root", 2, "/var/tmp/apaf")
    assert h.can_build("anything")


def test_inventory_typo_gets_a_did_you_mean(tmp_path):
    inv = tmp_path / "builders.toml"
    inv.write_text('[builders.b1]\nhost = "h"\nkey = "k"\nretry = 3\n')
    with pytest.raises(ConfigError, match=r"\[builders.b1\]: unknown key 'retry' \(did you mean 'retries'\?\)"):
        load_inventory(inv)


def test_inventory_entry_without_key_is_refused(tmp_path):
    inv = tmp_path / "builders.toml"
    inv.write_text('[builders.b1]\nhost = "h"\n')
    with pytest.raises(ConfigError, match=r"\[builders.b1\]: `key` is required"):
        load_inventory(inv)


def test_shipped_inventory_parses_and_lists_no_hosts():
    from builders import paths
    assert load_inventory(paths.REPO / "ci" / "builders.toml") == {}


def test_image_holds_every_package_its_targets_and_bundles_need():
    spec = images.load_image("bookworm-build")
    target = load_target("linux-x86_64")
    assert set(target.packages) <= set(spec.packages)
    assert {"dpkg", "rpm"} <= set(spec.packages)      # toolchains/bundles/linux-x86_64.toml
    assert spec.tag.startswith("apaf/bookworm-build:")


def test_image_tag_follows_its_definition(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "IMAGES", tmp_path)
    (tmp_path / "x.toml").write_text('suite = "bookworm"\npackages = ["a"]\n')
    first = images.load_image("x").tag
    (tmp_path / "x.toml").write_text('suite = "bookworm"\npackages = ["a", "b"]\n')
    assert images.load_image("x").tag != first
    (tmp_path / "x.toml").write_text('suit = "bookworm"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        images.load_image("x")
    with pytest.raises(ConfigError, match="known images: x"):
        images.load_image("nope")

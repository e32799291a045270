"""The SSH inventory's link_timeout: the dead-link detection window, 30 s unless a host says otherwise."""
from __future__ import annotations

import pytest

from builders.errors import ConfigError
from builders.inventory import get_host, load_inventory

BASE = '[builders.b1]\nhost = "10.0.0.5"\nkey = "id"\n'


def test_link_timeout_defaults_to_30_seconds_and_is_set_per_host(tmp_path):
    inv = tmp_path / "builders.toml"
    inv.write_text(BASE + '[builders.b2]\nhost = "10.0.0.6"\nkey = "id"\nlink_timeout = 90\n')
    assert get_host("b1", inv).link_timeout == 30.0
    assert get_host("b2", inv).link_timeout == 90.0


@pytest.mark.parametrize("value", ["1", "0", "-5", '"30"', "true"])
def test_a_link_timeout_too_short_or_not_a_number_is_refused(tmp_path, value):
    inv = tmp_path / "builders.toml"
    inv.write_text(BASE + f"link_timeout = {value}\n")
    with pytest.raises(ConfigError, match=r"\[builders.b1\]: link_timeout must be a number of seconds >= 3"):
        load_inventory(inv)


@pytest.mark.parametrize("key,value", [("build_root", '"Users/Shared/apaf"'), ("build_root", '"/Users/Shared/my apaf"'),
                                       ("work_dir", '"/tmp/a;rm -rf ~"'), ("work_dir", '"/var/tmp/../etc"')])
def test_a_build_path_that_is_relative_or_has_shell_characters_is_refused(tmp_path, key, value):
    inv = tmp_path / "builders.toml"
    inv.write_text(BASE + f"{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"\[builders.b1\]: {key} = .* must be an absolute path"):
        load_inventory(inv)


def test_build_paths_default_and_trailing_slashes_are_dropped(tmp_path):
    inv = tmp_path / "builders.toml"
    inv.write_text(BASE + 'os = "macos"\nbuild_root = "/Users/Shared/apaf/"\n')
    host = get_host("b1", inv)
    assert (host.work_dir, host.build_root) == ("/var/tmp/apaf", "/Users/Shared/apaf")
    assert get_host("b1", _plain(tmp_path)).build_root == ""


def _plain(tmp_path):
    inv = tmp_path / "plain.toml"
    inv.write_text(BASE)
    return inv

"""Package metadata rendered from apaf.toml, lock freshness and input checks: no build needed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from apaf.manifest import load_manifest
from builders.bundle import deb, rpm
from builders.bundle.app_build import bundle_target, write_sums
from builders.bundle.desktop import PackageInfo
from builders.bundle.lock import HEADER, check_lock, inputs_digest, pins
from builders.bundle.pipconf import network_env
from builders.errors import ConfigError
from builders.plan import steps_for

CHAT = Path(__file__).resolve().parents[3] / "examples" / "chat"
EPOCH = 1735689600


@pytest.fixture
def app(tmp_path) -> Path:
    d = tmp_path / "app"
    shutil.copytree(CHAT, d)
    return d


def info_for(app: Path, **fields) -> PackageInfo:
    text = (app / "apaf.toml").read_text()
    for key, value in fields.items():
        text = "\n".join(f'{key} = "{value}"' if line.startswith(f"{key} =") else line
                         for line in text.splitlines())
    (app / "apaf.toml").write_text(text + "\n")
    return PackageInfo.from_manifest(load_manifest(app))


def test_deb_control_and_desktop_entry_come_from_the_manifest(app):
    info = info_for(app)
    control = deb.control(info)
    assert control.startswith("Package: chat\nVersion: 1.0.0\nArchitecture: amd64\n")
    assert ("Description: Tor onion service: chat rooms reachable only as a Tor onion service\n"
            " Chat rooms reachable only as a Tor onion service.\n") in control
    assert info.icon_size == "64x64"
    entry = info.desktop_entry()
    assert "Name=Chat\n" in entry and "Exec=chat\n" in entry and "Icon=chat\n" in entry
    # The menu entry opens no terminal: the app opens the browser on its first-run wizard.
    assert "Terminal=false\n" in entry and "Terminal=true" not in entry
    assert deb.changelog(info, EPOCH).rstrip().endswith("Wed, 01 Jan 2025 00:00:00 +0000")


def test_synopsis_never_starts_with_the_package_name_and_fits_one_line():
    from builders.bundle.desktop import synopsis
    assert synopsis("blog", "A small blog. It has posts.") == "A small blog"
    assert synopsis("blog", "Blog engine for onions.") == "Tor onion service: blog engine for onions"
    assert len(synopsis("x", "word " * 40)) <= 72


def test_rpm_spec_has_manifest_metadata_and_no_strip(app):
    spec = rpm.spec(info_for(app, version="2.0-beta1"), EPOCH)
    assert "Name:           chat\n" in spec and "Version:        2.0~beta1\n" in spec
    assert "%global __os_install_post %{nil}" in spec      # strip would break staticx's archive
    assert "/usr/share/icons/hicolor/64x64/apps/chat.png" in spec


def test_a_version_packages_cannot_carry_is_refused_naming_the_field(app):
    with pytest.raises(ConfigError, match=r"apaf.toml: \[app\]\.version: 'v1' .* start with a digit"):
        info_for(app, version="v1")


def test_an_icon_that_is_not_png_is_refused_with_the_fix(app):
    (app / "icon.png").write_bytes(b"GIF89a not a png")
    with pytest.raises(ConfigError, match=r"\[app\]\.icon: .* is not a PNG image"):
        info_for(app)


def test_a_malformed_maintainer_is_refused(app):
    with pytest.raises(ConfigError, match="--maintainer"):
        PackageInfo.from_manifest(load_manifest(app), "just a name")


def test_maintainer_and_licence_come_from_the_manifest_and_reach_both_packages(app):
    info = info_for(app, maintainer="Ada Lovelace <ada@example.org>", license="GPL-3.0-or-later")
    assert "Maintainer: Ada Lovelace <ada@example.org>\n" in deb.control(info)
    assert deb.changelog(info, EPOCH).splitlines()[-1].startswith(" -- Ada Lovelace <ada@example.org>  ")
    assert "Chat is licensed under GPL-3.0-or-later" in deb.copyright_text(info)
    spec = rpm.spec(info, EPOCH)
    assert "Packager:       Ada Lovelace <ada@example.org>\n" in spec
    # The one binary also holds tor, CPython, OpenSSL, glibc...: their licences join the app's.
    assert "License:        GPL-3.0-or-later AND BSD-3-Clause AND Apache-2.0 AND " in spec
    assert "LGPL-2.1-or-later" in spec and "apaf.invalid" not in spec + deb.control(info)


def test_the_maintainer_option_overrides_the_manifest(app):
    info = PackageInfo.from_manifest(load_manifest(app), "Release Team <release@example.org>")
    assert info.maintainer == "Release Team <release@example.org>"


@pytest.mark.parametrize("key", ["maintainer", "license"])
def test_packages_without_a_maintainer_or_licence_are_refused_naming_the_field(app, key):
    toml = app / "apaf.toml"
    toml.write_text("".join(line for line in toml.read_text().splitlines(keepends=True)
                            if not line.startswith(f"{key} =")))
    with pytest.raises(ConfigError, match=rf"apaf.toml: \[app\]\.{key}: missing; .*add .*{key} = "):
        PackageInfo.from_manifest(load_manifest(app))


def test_missing_and_stale_locks_name_the_command_that_fixes_them(tmp_path):
    lock = tmp_path / "requirements.lock"
    with pytest.raises(ConfigError, match="is missing.*ci/farm lock --app x"):
        check_lock(lock, ["aiohttp"], "ci/farm lock --app x")
    lock.write_text(HEADER + inputs_digest(["aiohttp"]) + "\naiohttp==3.12.0 \\\n    --hash=sha256:ab\n")
    check_lock(lock, ["aiohttp"], "fix")          # fresh: no error
    assert pins(lock) == {"aiohttp": "3.12.0"}
    with pytest.raises(ConfigError, match="out of date.*ci/farm lock"):
        check_lock(lock, ["aiohttp", "jinja2"], "ci/farm lock")


def test_the_checked_in_locks_are_fresh():
    from builders.bundle.app_build import check_locks
    check_locks(load_manifest(CHAT))


def test_bundle_steps_reuse_the_toolchain_and_pin_tor_to_musl():
    ids = [s.id for s in steps_for(bundle_target("linux-x86_64"))]
    assert {"cpython@gnu", "tor@musl", "wheels@gnu", "freeze@gnu", "static@gnu", "deb@gnu", "rpm@gnu"} <= set(ids)
    assert "tor@gnu" not in ids


def test_unknown_bundle_target_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown target 'nope'"):
        bundle_target("nope")


def test_index_url_option_overrides_the_machine_config():
    assert network_env("http://127.0.0.1:9/simple")["PIP_INDEX_URL"] == "http://127.0.0.1:9/simple"


def test_sha256sums_list_artifacts_sorted_not_signatures_or_reports(tmp_path):
    for name in ("b.deb", "a-1.0-linux", "SHA256SUMS.asc", "release-report.json"):
        (tmp_path / name).write_bytes(name.encode())
    lines = write_sums(tmp_path).read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == ["a-1.0-linux", "b.deb"]


def test_rpm_spec_takes_manifest_text_literally(app, tmp_path):
    """A manifest's `%(cmd)` must not run when rpmbuild reads the spec, nor `%files` start a section."""
    marker = tmp_path / "ran"
    info = info_for(app, description=f"50% off %(touch {marker}) %{{_bindir}}")
    path = tmp_path / "chat.spec"
    path.write_text(rpm.spec(info, EPOCH))
    import subprocess
    out = subprocess.run(["rpmspec", "-q", "--qf", "%{DESCRIPTION}", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), "rpmspec ran a command from the manifest"
    assert f"50% off %(touch {marker}) %{{_bindir}}" in out.stdout

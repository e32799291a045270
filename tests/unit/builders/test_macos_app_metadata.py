"""The macOS .app's metadata made on Linux: bundle identifier, Info.plist, .icns, the macapp inputs."""
from __future__ import annotations

import io
import plistlib
import shutil
from pathlib import Path

import pytest
from PIL import Image

from apaf.errors import ManifestError
from apaf.manifest import load_manifest
from builders.bundle.macos.app import minimum_macos, render
from builders.bundle.macos.icns import icns_bytes
from builders.bundle.macos.plist import info_plist
from builders.errors import ConfigError
from builders.recipes import load_target

CHAT = Path(__file__).resolve().parents[3] / "examples" / "chat"


def _app(tmp_path: Path, extra: str = "", version: str = "1.0.0", icon: bool = True) -> Path:
    shutil.copyfile(CHAT / "icon.png", tmp_path / "icon.png")
    (tmp_path / "apaf.toml").write_text(
        f'[app]\nname = "chat"\nversion = "{version}"\nentry = "chat_app:main"\ntitle = "Chat room"\n'
        + ('icon = "icon.png"\n' if icon else "") + extra)
    return tmp_path


def test_bundle_id_defaults_from_the_name(tmp_path):
    assert load_manifest(_app(tmp_path)).bundle_id == "org.apaf.chat"


def test_bundle_id_from_the_manifest(tmp_path):
    m = load_manifest(_app(tmp_path, 'bundle_id = "net.example.Chat-2"\n'))
    assert m.bundle_id == "net.example.Chat-2"


@pytest.mark.parametrize("bad", ["chat", "org.example.chat_app", "org..chat", ".org.chat", "org.chat.",
                                 "org.example.ch@t", "org.é.chat", "", "a." * 80 + "b"])
def test_bad_bundle_ids_name_the_field_and_the_fix(tmp_path, bad):
    with pytest.raises(ManifestError) as err:
        load_manifest(_app(tmp_path, f'bundle_id = "{bad}"\n'))
    assert "[app].bundle_id" in str(err.value) and "reverse-DNS" in str(err.value)


def test_info_plist_says_what_macos_reads(tmp_path):
    m = load_manifest(_app(tmp_path, 'bundle_id = "org.example.chat"\n', version="2.10.3"))
    info = plistlib.loads(info_plist(m, executable="chat", icon_file="chat.icns", minimum_macos="11.0"))
    assert info["CFBundleIdentifier"] == "org.example.chat"
    assert info["CFBundleExecutable"] == "chat"
    assert info["CFBundleShortVersionString"] == info["CFBundleVersion"] == "2.10.3"
    assert info["LSMinimumSystemVersion"] == "11.0"
    assert info["CFBundleIconFile"] == "chat.icns"
    assert info["CFBundleDisplayName"] == "Chat room"
    assert info["CFBundlePackageType"] == "APPL"
    assert info["NSHighResolutionCapable"] is True
    assert info["LSUIElement"] is False


def test_info_plist_bytes_are_deterministic(tmp_path):
    m = load_manifest(_app(tmp_path))
    a = info_plist(m, executable="chat", icon_file=None, minimum_macos="11.0")
    b = info_plist(load_manifest(tmp_path), executable="chat", icon_file=None, minimum_macos="11.0")
    assert a == b and b"CFBundleIconFile" not in a


@pytest.mark.parametrize("version", ["1.0rc1", "1.0.0.1", "01.2", "v1", "1.2.3-beta"])
def test_versions_macos_rejects_are_refused_with_the_fix(tmp_path, version):
    m = load_manifest(_app(tmp_path, version=version))
    with pytest.raises(ConfigError) as err:
        info_plist(m, executable="chat", icon_file=None, minimum_macos="11.0")
    assert ".version" in str(err.value) and "three integers" in str(err.value)


def test_minimum_macos_comes_from_the_target():
    assert minimum_macos(load_target("macos-arm64")) == "11.0"
    with pytest.raises(ConfigError, match="MACOSX_DEPLOYMENT_TARGET"):
        minimum_macos(load_target("linux-x86_64"))


def test_icns_has_every_size_and_is_deterministic():
    data = icns_bytes(CHAT / "icon.png")
    assert data[:4] == b"icns" and data == icns_bytes(CHAT / "icon.png")
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "ICNS"
        assert {s[0] * s[2] for s in im.info["sizes"]} >= {32, 64, 128, 256, 512, 1024}
        im.size = (512, 512)
        im.load()
        assert im.size == (1024, 1024)   # the 512@2x member


def test_icon_that_is_not_a_square_png_is_refused(tmp_path):
    Image.new("RGB", (64, 32)).save(tmp_path / "wide.png")
    with pytest.raises(ConfigError, match="square"):
        icns_bytes(tmp_path / "wide.png")
    Image.new("RGB", (64, 64)).save(tmp_path / "icon.jpg", format="JPEG")
    with pytest.raises(ConfigError, match="not PNG"):
        icns_bytes(tmp_path / "icon.jpg")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ConfigError, match="cannot read the icon"):
        icns_bytes(tmp_path / "junk.png")


def test_render_writes_the_macapp_inputs(tmp_path):
    (tmp_path / "app").mkdir()
    m = load_manifest(_app(tmp_path / "app"))
    out = render(m, tmp_path / "package", "11.0")
    assert sorted(p.name for p in out.iterdir()) == ["Info.plist", "chat.icns", "meta.env"]
    assert "APP_EXECUTABLE=chat" in (out / "meta.env").read_text()
    assert "ICON_FILE=chat.icns" in (out / "meta.env").read_text()
    assert plistlib.loads((out / "Info.plist").read_bytes())["CFBundleIconFile"] == "chat.icns"

"""The .dmg layout file (dmgbuild's JSON settings): what the Linux writer accepts and refuses."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders.bundle.macos import dmg_layout
from builders.bundle.macos.dmg_layout import LayoutError
from builders.paths import RECIPES


def test_the_recipes_layout_names_the_volume_after_the_app():
    layout = dmg_layout.load(RECIPES / "dmg" / "layout.json", name="Chat")
    assert layout.title == "Chat"
    app, apps = layout.item("Chat.app"), layout.item("Applications")
    assert (app.kind, app.path) == ("file", "Chat.app")
    assert (apps.kind, apps.path) == ("link", "/Applications")
    assert app.x < apps.x and app.y == apps.y          # app on the left, drag to the right
    assert layout.background == str(RECIPES / "dmg" / "background.png")
    x, y, w, h = layout.window
    assert (w, h) == (640, 400)


def minimal(**extra):
    return {"title": "@NAME@", "contents": [{"x": 1, "y": 2, "path": "@NAME@.app"}], **extra}


@pytest.mark.parametrize("change, words", [
    ({"format": "ULFO"}, "format 'ULFO' is not made on Linux"),
    ({"filesystem": "APFS"}, "filesystem 'APFS'"),
    ({"license": {"default-language": "en_US"}}, "unsupported key(s) license"),
    ({"icon-size": "big"}, "icon-size must be a whole number"),
    ({"background": "#ffffff"}, "must be a .png or .tiff"),
    ({"title": "A name far too long for an HFS volume"}, "1-27 characters"),
    ({"contents": [{"x": 1, "y": 1, "path": "a"}, {"x": 2, "y": 2, "path": "b/a"}]}, "same name"),
    ({"contents": [{"x": 1, "y": 1, "path": "a", "type": "position"}]}, "type 'position' is not supported"),
    ({"contents": [{"x": 1, "path": "a"}]}, "contents[0].y must be"),
    ({"contents": [{"x": 1, "y": 1, "path": "a", "hide_extension": True}]}, "unsupported key(s) hide_extension"),
    ({"text-size": 14}, "unsupported key(s) text-size"),
])
def test_bad_layouts_are_refused_with_the_key_and_the_fix(change, words):
    with pytest.raises(LayoutError) as err:
        dmg_layout.parse(minimal(**change), name="Chat")
    assert words in str(err.value)


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(LayoutError, match="not found"):
        dmg_layout.load(tmp_path / "nope.json", name="X")
    (tmp_path / "bad.json").write_text("{title: 1")
    with pytest.raises(LayoutError, match="not valid JSON"):
        dmg_layout.load(tmp_path / "bad.json", name="X")


def test_background_is_relative_to_the_layout_file(tmp_path):
    (tmp_path / "l.json").write_text(json.dumps(minimal(background="art/bg.png")))
    assert dmg_layout.load(tmp_path / "l.json", name="X").background == str(tmp_path / "art" / "bg.png")


def test_dmgbuild_reads_the_recipes_layout_the_same_way(tmp_path, monkeypatch):
    """The other path: dmgbuild's own JSON reader (what runs on a Mac) sees the same layout.

    dmgbuild reads macOS's version at import; on Linux that is '' and the import fails,
    so the test gives it one. Only its settings reader runs, no hdiutil.
    """
    import importlib
    import platform
    import sys

    monkeypatch.setattr(platform, "mac_ver", lambda: ("13.0", ("", "", ""), ""))
    monkeypatch.delitem(sys.modules, "dmgbuild.core", raising=False)
    core = importlib.import_module("dmgbuild.core")
    src = RECIPES / "dmg" / "layout.json"
    (tmp_path / "settings.json").write_text(src.read_text().replace("@NAME@", "Chat"))  # as build.macos.sh does
    theirs: dict = {}
    core.load_json(str(tmp_path / "settings.json"), theirs)
    ours = dmg_layout.load(src, name="Chat")
    assert theirs["volume_name"] == ours.title
    assert (theirs["format"], theirs["filesystem"]) == ("UDZO", "HFS+")
    assert theirs["files"] == [("Chat.app", "Chat.app")]
    assert theirs["symlinks"] == {"Applications": "/Applications"}
    assert theirs["icon_locations"] == {i.name: (i.x, i.y) for i in ours.items}
    x, y, w, h = ours.window
    assert theirs["window_rect"] == ((x, y), (w, h))
    assert theirs["icon_size"] == ours.icon_size
    assert (src.parent / theirs["background"]).resolve() == Path(ours.background)

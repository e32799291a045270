"""The disk image's layout, read from a dmgbuild JSON settings file (appdmg's schema).

One file serves both paths: `dmgbuild -s layout.json "<Volume>" out.dmg` on a
Mac, `builders.bundle.macos.dmg` on Linux. `load(path, name=...)` replaces
`@NAME@` (the app's name) in every string, checks what the Linux writer can
honour, and returns a `Layout`; anything it cannot honour is a LayoutError
naming the key and the fix, never silently dropped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

FORMATS = ("UDZO",)          # what the Linux writer makes (zlib chunks, as hdiutil's UDZO)
FILESYSTEMS = ("HFS+",)
# The keys of dmgbuild's JSON reader that the Linux writer honours (dmgbuild reads no
# others, so a key outside its reader would mean something on one path only).
KEYS = {"title", "icon-size", "window", "background", "format", "filesystem",
        "compression-level", "contents"}
ITEM_KEYS = {"x", "y", "type", "path", "name"}


class LayoutError(ValueError):
    """The layout file asks for something invalid or unsupported; the message says what to change."""


@dataclass(frozen=True)
class Item:
    """One icon in the window: a file copied in (`file`) or a symlink (`link`)."""
    name: str
    kind: str          # "file" | "link"
    path: str          # file: path of the source; link: the link's target (e.g. /Applications)
    x: int
    y: int


@dataclass(frozen=True)
class Layout:
    title: str                              # volume name, as Finder shows it
    window: tuple[int, int, int, int]       # x, y, width, height (Finder's coordinates)
    icon_size: int
    text_size: int                          # Finder's label size; dmgbuild's JSON reader keeps 12
    background: str | None                  # path of a PNG/TIFF (load() makes it absolute)
    level: int                              # zlib level
    items: tuple[Item, ...] = field(default_factory=tuple)

    def item(self, name: str) -> Item:
        return next(i for i in self.items if i.name == name)


def _int(where: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LayoutError(f"{where} must be a whole number from {lo} to {hi}, not {value!r}")
    return value


def _subst(value, name: str):
    if isinstance(value, str):
        return value.replace("@NAME@", name)
    if isinstance(value, list):
        return [_subst(v, name) for v in value]
    if isinstance(value, dict):
        return {k: _subst(v, name) for k, v in value.items()}
    return value


def parse(data: dict, *, name: str, where: str = "layout") -> Layout:
    """A Layout from the settings' JSON object (see module docstring)."""
    if not isinstance(data, dict):
        raise LayoutError(f"{where}: the settings must be a JSON object")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise LayoutError(f"{where}: unsupported key(s) {', '.join(unknown)}; the Linux writer "
                          f"understands {', '.join(sorted(KEYS))} (remove them or build on a Mac with dmgbuild)")
    d = _subst(data, name)
    for key in ("title", "contents"):
        if key not in d:
            raise LayoutError(f"{where}: '{key}' is missing (dmgbuild needs it too)")
    title = d["title"]
    if not isinstance(title, str) or not title or len(title) > 27 or ":" in title:
        raise LayoutError(f"{where}: title {title!r} must be 1-27 characters without ':' (an HFS+ volume name)")
    fmt = d.get("format", "UDZO")
    if fmt not in FORMATS:
        raise LayoutError(f"{where}: format {fmt!r} is not made on Linux; use one of {', '.join(FORMATS)}")
    fs = d.get("filesystem", "HFS+")
    if fs not in FILESYSTEMS:
        raise LayoutError(f"{where}: filesystem {fs!r} is not made on Linux; use HFS+")
    win = d.get("window", {})
    pos, size = win.get("position", {}), win.get("size", {})
    window = (_int(f"{where}: window.position.x", pos.get("x", 100), 0, 10000),
              _int(f"{where}: window.position.y", pos.get("y", 100), 0, 10000),
              _int(f"{where}: window.size.width", size.get("width", 640), 100, 10000),
              _int(f"{where}: window.size.height", size.get("height", 480), 100, 10000))
    items = []
    for n, entry in enumerate(d["contents"]):
        at = f"{where}: contents[{n}]"
        if not isinstance(entry, dict) or "path" not in entry:
            raise LayoutError(f"{at}: each entry needs 'path', 'x' and 'y'")
        extra = sorted(set(entry) - ITEM_KEYS)
        if extra:
            raise LayoutError(f"{at}: unsupported key(s) {', '.join(extra)} (hiding files or extensions needs "
                              f"SetFile on a Mac); the Linux writer understands {', '.join(sorted(ITEM_KEYS))}")
        kind = entry.get("type", "file")
        if kind not in ("file", "link"):
            raise LayoutError(f"{at}: type {kind!r} is not supported; use 'file' or 'link'")
        path = entry["path"]
        item_name = entry.get("name", Path(path.rstrip("/")).name)
        if not item_name or "/" in item_name or item_name.startswith("."):
            raise LayoutError(f"{at}: name {item_name!r} must be a visible file name without '/'")
        items.append(Item(item_name, kind, path, _int(f"{at}.x", entry.get("x"), 0, 10000),
                          _int(f"{at}.y", entry.get("y"), 0, 10000)))
    names = [i.name for i in items]
    if len(set(names)) != len(names):
        raise LayoutError(f"{where}: two contents entries have the same name: {sorted(names)}")
    bg = d.get("background")
    if bg is not None and (not isinstance(bg, str) or not bg.lower().endswith((".png", ".tiff", ".tif"))):
        raise LayoutError(f"{where}: background {bg!r} must be a .png or .tiff file (colours are not supported on Linux)")
    return Layout(title=title, window=window,
                  icon_size=_int(f"{where}: icon-size", d.get("icon-size", 80), 16, 512),
                  text_size=12,
                  background=bg, level=_int(f"{where}: compression-level", d.get("compression-level", 9), 1, 9),
                  items=tuple(items))


def load(path: Path, *, name: str) -> Layout:
    """Read and check `path`; `name` fills `@NAME@`. Raises LayoutError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayoutError(f"{path}: layout file not found") from None
    except json.JSONDecodeError as exc:
        raise LayoutError(f"{path}: not valid JSON ({exc})") from None
    layout = parse(data, name=name, where=str(path))
    if layout.background:  # relative to the layout file, wherever the writer runs
        layout = replace(layout, background=str(path.parent.resolve() / layout.background))
    return layout

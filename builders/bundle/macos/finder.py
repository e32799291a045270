"""The volume's `.DS_Store`: Finder's window, icon positions and background, from a Layout.

Written with the `ds_store` library (the one dmgbuild uses) so the records are
the same dmgbuild writes on a Mac. The background needs an alias record;
`mac_alias.Alias.for_file` only works on macOS, so the alias is built from its
fields: volume name and date, the file's name, its POSIX and Carbon paths, and
its catalog node id, which only xorriso knows: the writer builds the volume
once, reads the id back (hfs_catalog.py) and writes the .DS_Store again.
"""
from __future__ import annotations

import datetime
from pathlib import Path

from ds_store import DSStore
from mac_alias import ALIAS_FIXED_DISK, ALIAS_KIND_FILE, Alias, TargetInfo, VolumeInfo

from .dmg_layout import Layout


def background_name(layout: Layout) -> str | None:
    """Where the background picture lives on the volume (hidden, as dmgbuild puts it)."""
    if not layout.background:
        return None
    return ".background" + Path(layout.background).suffix.lower()


ROOT_FOLDER = 2   # HFS+ gives the root folder this catalog node id


def background_alias(layout: Layout, epoch: int, cnid: int = 0) -> bytes:
    """The alias record Finder follows to the background picture (catalog node `cnid`) on the volume."""
    name = background_name(layout)
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    volume = VolumeInfo(layout.title, when, b"H+", ALIAS_FIXED_DISK, 0, b"\0\0",
                        posix_path=f"/Volumes/{layout.title}")
    target = TargetInfo(ALIAS_KIND_FILE, name, ROOT_FOLDER, cnid, when, b"\0\0\0\0", b"\0\0\0\0",
                        carbon_path=f"{layout.title}:{name}", posix_path=f"/{name}")
    return Alias(volume=volume, target=target).to_bytes()


def window_settings(layout: Layout) -> dict:
    """Finder's `bwsp` record: window bounds with toolbar, sidebar and status bar hidden."""
    x, y, w, h = layout.window
    return {"ContainerShowSidebar": False, "PreviewPaneVisibility": False, "ShowPathbar": False,
            "ShowSidebar": False, "ShowStatusBar": False, "ShowTabView": False, "ShowToolbar": False,
            "SidebarWidth": 180, "WindowBounds": f"{{{{{x}, {y}}}, {{{w}, {h}}}}}"}


def icon_view(layout: Layout, epoch: int, background_cnid: int = 0) -> dict:
    """Finder's `icvp` record: icon view, icon and text size, background."""
    icvp = {"viewOptionsVersion": 1, "arrangeBy": "none", "gridOffsetX": 0.0, "gridOffsetY": 0.0,
            "gridSpacing": 100.0, "iconSize": float(layout.icon_size), "labelOnBottom": True,
            "showIconPreview": False, "showItemInfo": False, "textSize": float(layout.text_size),
            "scrollPositionX": 0.0, "scrollPositionY": 0.0,
            "backgroundType": 0, "backgroundColorRed": 1.0, "backgroundColorGreen": 1.0,
            "backgroundColorBlue": 1.0}
    if layout.background:
        icvp["backgroundType"] = 2
        icvp["backgroundImageAlias"] = background_alias(layout, epoch, background_cnid)
    return icvp


def write_ds_store(layout: Layout, path: Path, epoch: int, background_cnid: int = 0) -> None:
    """Write `path` (the volume root's .DS_Store); same arguments, same bytes."""
    path = Path(path)
    path.unlink(missing_ok=True)
    with DSStore.open(str(path), "w+") as d:
        d["."]["vSrn"] = ("long", 1)
        d["."]["bwsp"] = window_settings(layout)
        d["."]["icvp"] = icon_view(layout, epoch, background_cnid)
        d["."]["icvl"] = ("type", b"icnv")
        for item in sorted(layout.items, key=lambda i: i.name):
            d[item.name]["Iloc"] = (item.x, item.y)

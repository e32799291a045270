"""The .app's Contents/Info.plist, rendered from the app's manifest.

`info_plist(manifest, executable=..., minimum_macos=...)` returns the plist's bytes
(XML, keys sorted, so the same manifest always gives the same bytes) or raises
ConfigError naming the field and the fix when a value is one macOS rejects.
"""
from __future__ import annotations

import plistlib
import re

from ...errors import ConfigError

# CFBundleShortVersionString / CFBundleVersion: one to three non-negative integers
# separated by periods (Apple's Information Property List reference); anything else
# (1.0rc1, 1.0.0.1) is refused by the App Store and confuses Launch Services' updates.
_BUNDLE_VERSION = re.compile(r"^(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,2}$")
_MACOS_VERSION = re.compile(r"^[0-9]{2}(\.[0-9]{1,2}){0,2}$")
# Finder shows CFBundleName under the icon where there is no room for more.
_NAME_MAX = 15


def bundle_version(version: str, where: str) -> str:
    """The manifest's version if macOS accepts it as a bundle version, else ConfigError."""
    if not _BUNDLE_VERSION.match(version):
        raise ConfigError(f"{where}.version: {version!r} is not a macOS bundle version; "
                          "for the macOS targets use one to three integers like \"1.2.3\"")
    return version


def info_plist(manifest, *, executable: str, icon_file: str | None, minimum_macos: str) -> bytes:
    """Info.plist for `manifest`'s app; `icon_file` is the .icns name in Contents/Resources."""
    where = f"{manifest.path}: [app]"
    version = bundle_version(manifest.version, where)
    if not _MACOS_VERSION.match(minimum_macos):
        raise ConfigError(f"minimum macOS {minimum_macos!r} is not a macOS version; set the target's "
                          "MACOSX_DEPLOYMENT_TARGET to one like \"11.0\"")
    info = {
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": manifest.title,
        "CFBundleExecutable": executable,
        "CFBundleIdentifier": manifest.bundle_id,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": manifest.title[:_NAME_MAX],
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": minimum_macos,
        # A Dock icon while it runs: the app publishes a Tor onion service, which the
        # user must be able to see running and quit (LSUIElement would hide it).
        "LSUIElement": False,
        "NSHighResolutionCapable": True,
    }
    if icon_file:
        info["CFBundleIconFile"] = icon_file
    return plistlib.dumps(info, fmt=plistlib.FMT_XML, sort_keys=True)

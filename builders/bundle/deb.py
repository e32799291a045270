"""The .deb's control data: control file, copyright, changelog, lintian overrides.

`render(info, folder, epoch)` writes them (plus the desktop entry and icon) into
the `package` input folder that toolchains/recipes/deb assembles with dpkg-deb.
"""
from __future__ import annotations

import email.utils
from pathlib import Path

from .desktop import PackageInfo

# Each with the reason it does not apply to an app bundle (written above the override).
LINTIAN_OVERRIDES = [
    ("The whole point: one static ELF that runs on any Linux (staticx).",
     "statically-linked-binary [opt/{name}/{name}]"),
    ("staticx appends its archive to the ELF; stripping it would destroy the program.",
     "unstripped-binary-or-object [opt/{name}/{name}]"),
    ("An add-on app, not part of Debian: the FHS gives such packages /opt/<package>.",
     "dir-or-file-in-opt [opt/{name}/]"),
    ("Same reason, the program itself.", "dir-or-file-in-opt [opt/{name}/{name}]"),
    ("Relative on purpose: the package also works unpacked under another root (chroot, rpm2cpio).",
     "relative-symlink ../../opt/{name}/{name} [usr/bin/{name}]"),
    ("An app bundle carries its own libraries (zlib, libm, ...) inside the one executable, by design.",
     "embedded-library"),
    ("`{name} --help` documents the options; there is no separate manual.", "no-manual-page [usr/bin/{name}]"),
]


def control(info: PackageInfo) -> str:
    body = "\n".join(" " + (line if line.strip() else ".") for line in _wrap(info.description))
    return (f"Package: {info.name}\nVersion: {info.version}\nArchitecture: amd64\n"
            f"Maintainer: {info.maintainer}\nInstalled-Size: @INSTALLED_SIZE@\n"
            f"Section: net\nPriority: optional\n"
            f"Description: {info.summary}\n{body}\n")


def changelog(info: PackageInfo, epoch: int) -> str:
    date = email.utils.formatdate(epoch, usegmt=False).replace("-0000", "+0000")
    return (f"{info.name} ({info.version}) unstable; urgency=medium\n\n"
            f"  * {info.title} {info.version}, bundled by the APAF build farm.\n\n"
            f" -- {info.maintainer}  {date}\n")


def copyright_text(info: PackageInfo) -> str:
    return (f"{info.title} {info.version}, packaged by the APAF build farm.\n"
            f"Copyright: the authors of {info.title} and of each component below.\n\n"
            f"The app's own licence is the one its authors give with its source.\n"
            "This package also contains, unmodified and statically linked or frozen:\n"
            " - Tor (BSD-3-Clause), with OpenSSL (Apache-2.0), libevent (BSD-3-Clause), zlib (Zlib);\n"
            " - CPython (PSF-2.0) with libffi, xz, bzip2, sqlite;\n"
            " - the APAF runtime and the Python packages listed in the build report;\n"
            " - the GNU C library (LGPL-2.1+), via staticx.\n"
            "On Debian systems the licences are in /usr/share/common-licenses/.\n")


def lintian_overrides(info: PackageInfo) -> str:
    return "".join(f"# {why.format(name=info.name)}\n{info.name}: {what.format(name=info.name)}\n"
                   for why, what in LINTIAN_OVERRIDES)


def render(info: PackageInfo, folder: Path, epoch: int) -> None:
    d = folder / "deb"
    d.mkdir(parents=True, exist_ok=True)
    (d / "control").write_text(control(info))
    (d / "copyright").write_text(copyright_text(info))
    (d / "changelog").write_text(changelog(info, epoch))
    (d / "lintian-overrides").write_text(lintian_overrides(info))


def _wrap(text: str, width: int = 78) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])

"""The .deb's control data: control file, copyright, changelog, lintian overrides.

`render(info, folder, epoch)` writes them (plus the desktop entry and icon) into
the `package` input folder that toolchains/recipes/deb assembles with dpkg-deb.
"""
from __future__ import annotations

import email.utils
from pathlib import Path

from .desktop import PackageInfo

# What every bundle carries besides the app, with each licence (SPDX): the copyright file
# lists them and the .rpm's License field joins them to the app's own.
BUNDLED = [
    ("Tor", "BSD-3-Clause"), ("OpenSSL", "Apache-2.0"), ("libevent", "BSD-3-Clause"), ("zlib", "Zlib"),
    ("libseccomp, in tor (its Sandbox)", "LGPL-2.1-only"),
    ("CPython", "PSF-2.0"), ("libffi", "MIT"), ("xz's liblzma", "0BSD"), ("bzip2", "bzip2-1.0.6"),
    ("SQLite", "blessing"), ("stem", "LGPL-3.0-only"),
    ("aiohttp, yarl, multidict, frozenlist, propcache, aiosignal, aiohttp-socks, python-socks", "Apache-2.0"),
    ("aiohappyeyeballs", "PSF-2.0"), ("Jinja2, MarkupSafe, idna", "BSD-3-Clause"), ("attrs", "MIT"),
    ("packaging", "Apache-2.0 OR BSD-2-Clause"), ("the GNU C library, via staticx", "LGPL-2.1-or-later"),
]


# What a bundle carries in addition when the app lists the program in extra_binaries
# (toolchains/recipes/{gnupg,7zip}; 7-Zip's unRAR code is not in Debian's repack we build).
PROGRAMS = {
    "gpg": ("GnuPG 1.4 (gpg)", "GPL-3.0-or-later"),
    "7zz": ("7-Zip (7zz)", "LGPL-2.1-or-later AND BSD-3-Clause"),
}


def components(binaries=()) -> list[tuple[str, str]]:
    """BUNDLED plus the listed extra programs: (what, SPDX licence)."""
    return BUNDLED + [PROGRAMS[b] for b in binaries]


def bundled_licenses(binaries=()) -> list[str]:
    """The distinct licences of what the bundle carries, in first-seen order (compound ones parenthesised)."""
    seen: list[str] = []
    for _, lic in components(binaries):
        lic = f"({lic})" if " " in lic else lic
        if lic not in seen:
            seen.append(lic)
    return seen

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
            f"Maintainer: {info.maintainer}\n"
            f"Copyright: the authors of {info.title} and of each component below.\n\n"
            f"{info.title} is licensed under {info.license} (SPDX expression), as its authors state.\n"
            "This package also contains, unmodified, statically linked or frozen (what the app uses of):\n"
            + "".join(f" - {what} ({lic});\n" for what, lic in components(info.binaries))
            + " - the APAF runtime; the exact Python packages are listed in the build report.\n"
            "On Debian systems the common licences are in /usr/share/common-licenses/;\n"
            "the others are at https://spdx.org/licenses/<identifier>.html.\n")


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

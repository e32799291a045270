"""What Linux packages share: the desktop entry, the icon's hicolor size, package metadata.

`PackageInfo.from_manifest(manifest, maintainer)` validates what the package formats
need beyond the manifest's own rules (a version dpkg and rpm accept, a PNG icon, a
maintainer and a licence: `--maintainer` overrides [app].maintainer) and raises
ConfigError naming the field and the fix.
"""
from __future__ import annotations

import re
import shlex
import struct
from dataclasses import dataclass
from pathlib import Path

from apaf.manifest import MAINTAINER_RE

from ..errors import ConfigError

_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~-]*$")


@dataclass(frozen=True)
class PackageInfo:
    name: str
    version: str
    title: str
    summary: str            # one line, no trailing period
    description: str        # may be several sentences
    maintainer: str         # "Name <address>"
    license: str            # SPDX expression
    icon: Path | None
    icon_size: str          # "64x64" (hicolor directory), "" without an icon
    manifest: Path
    binaries: tuple[str, ...] = ()   # [app].extra_binaries: programs the bundle also carries

    @classmethod
    def from_manifest(cls, m, maintainer: str = "") -> "PackageInfo":
        where = f"{m.path}: [app]"
        if not _VERSION.match(m.version):
            raise ConfigError(f"{where}.version: {m.version!r} is not a package version dpkg and rpm "
                              "accept; start with a digit and use only letters, digits and . + ~ -")
        if maintainer and not MAINTAINER_RE.match(maintainer):
            raise ConfigError(f"--maintainer {maintainer!r}: use the form 'Full Name <address@example.org>'")
        maintainer = maintainer or m.maintainer
        if not maintainer:
            raise ConfigError(f"{where}.maintainer: missing; the .deb and .rpm name who answers for them: add "
                              'maintainer = "Your Name <you@example.org>" to apaf.toml, or pass --maintainer')
        if not m.license:
            raise ConfigError(f"{where}.license: missing; the .deb's copyright file and the .rpm's License "
                              'field need the app\'s licence: add an SPDX expression, e.g. license = "MIT"')
        size = ""
        if m.icon is not None:
            w, h = png_size(m.icon, f"{where}.icon")
            size = f"{w}x{h}"
        title = (m.title or m.name).strip()
        description = " ".join((m.description or f"{title}, served as a Tor onion service.").split())
        return cls(m.name, m.version, title, synopsis(m.name, description), description, maintainer,
                   m.license, m.icon, size, m.path, tuple(m.extra_binaries))

    def desktop_entry(self) -> str:
        # Terminal=false: started without a terminal on a desktop, the runtime opens the
        # browser on its first-run wizard and logs to its data dir (apaf.desktop).
        return ("[Desktop Entry]\nType=Application\n"
                f"Name={self.title}\nComment={_one_line(self.description)}\n"
                f"Exec={self.name}\nIcon={self.name}\nTerminal=false\nCategories=Network;\n")

    def meta_env(self, **extra: str) -> str:
        """Shell assignments the packaging steps source (values quoted)."""
        values = {"NAME": self.name, "VERSION": self.version, "ICON_SIZE": self.icon_size, **extra}
        return "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(values.items()))


def synopsis(name: str, description: str) -> str:
    """The package's one-line summary: the description's first sentence, not starting with
    the package's name (lintian: description-starts-with-package-name), at most 72 chars."""
    first = re.split(r"(?<=[.!?])\s", description, maxsplit=1)[0].rstrip(".")
    if re.match(rf"{re.escape(name)}\b", first, re.IGNORECASE):
        first = f"Tor onion service: {first[0].lower()}{first[1:]}"
    return first if len(first) <= 72 else first[:71].rsplit(" ", 1)[0] + "…"


def png_size(path: Path, field: str) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ConfigError(f"{field}: {path} is not a PNG image; desktop menus need a PNG icon "
                          "(convert it, e.g. 64x64 or 256x256)")
    return struct.unpack(">II", data[16:24])


def _one_line(text: str) -> str:
    return " ".join(text.split())

"""Debian's source archive as a mirror of upstream tarballs, through apt.

A private apt root under the cache (its own sources.list with `deb-src`
entries, lists and cache) keeps the machine's apt configuration untouched and
needs no root. The archive's address is read from the machine's own apt
configuration, or from `$APAF_DEBIAN_MIRROR` / the `--debian-mirror` option.
`apt-get source --download-only` may exit non-zero when only the `.dsc` is
missing, so success is judged by the files that arrived.

The security archive (`<suite>-security`) is read too: Debian ships security
releases of a package there weeks or months before a point release moves them
into the suite (7-Zip 26.02 did). Its address comes from the machine's apt
configuration or `$APAF_DEBIAN_SECURITY_MIRROR`. It is optional: without one,
or when it does not answer, the main suites are used alone (said in the log).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import SourceError, ToolMissing

SUITES = ("trixie", "bookworm")
SECURITY_SUITES = tuple(f"{s}-security" for s in SUITES)
# apt's default stall timeout is 120 s: an archive that does not answer must not hold up the fetch.
TIMEOUT = 15
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_CODENAMES = {"buster", "bullseye", "bookworm", "trixie", "forky", "sid", "unstable", "stable", "testing"}


def _entries_from_list(text: str):
    for line in text.splitlines():
        line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(line) >= 4 and line[0] in ("deb", "deb-src"):
            yield line[1], [line[2]], line[3:]


def _entries_from_deb822(text: str):
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line and not line.startswith(("#", " ")) and ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.split()
        if fields.get("enabled", ["yes"])[0] == "no":
            continue
        for uri in fields.get("uris", []):
            yield uri, fields.get("suites", []), fields.get("components", [])


def machine_mirror(etc: Path = Path("/etc/apt")) -> str | None:
    """The first Debian archive URI in the machine's apt sources (not security), or None.

    A Debian archive entry has a Debian codename as suite and a `main`
    component; vendor repositories (`bookworm stable`, `nodistro main`) do not.
    """
    files = [etc / "sources.list"] + sorted((etc / "sources.list.d").glob("*"))
    for f in files:
        if not f.is_file():
            continue
        parse = _entries_from_deb822 if f.suffix == ".sources" else _entries_from_list
        if f.suffix not in (".sources", ".list", ""):
            continue
        for uri, suites, components in parse(f.read_text(errors="replace")):
            base = {s.split("-")[0].split("/")[0] for s in suites}
            if base & _CODENAMES and "main" in components and not any("security" in s for s in suites):
                return uri.rstrip("/")
    return None


def machine_security_mirror(etc: Path = Path("/etc/apt")) -> str | None:
    """The Debian security archive URI in the machine's apt sources, or None."""
    for f in [etc / "sources.list"] + sorted((etc / "sources.list.d").glob("*")):
        if not f.is_file() or f.suffix not in (".sources", ".list", ""):
            continue
        parse = _entries_from_deb822 if f.suffix == ".sources" else _entries_from_list
        for uri, suites, *_ in parse(f.read_text(errors="replace")):
            if any(s.endswith("-security") or s.endswith("/updates") for s in suites):
                return uri.rstrip("/")
    return None


class DebianArchive:
    """A private apt root that downloads upstream tarballs from Debian's source archive."""

    def __init__(self, root: Path, mirror: str | None = None, log=print, keyring: str = KEYRING,
                 security_mirror: str | None = None):
        self.root = root
        self.keyring = keyring
        self.mirror = mirror or os.environ.get("APAF_DEBIAN_MIRROR") or machine_mirror()
        self.security_mirror = (security_mirror or os.environ.get("APAF_DEBIAN_SECURITY_MIRROR")
                                or machine_security_mirror())
        self.log = log
        self._updated = False

    def _apt_opts(self) -> list[str]:
        r = self.root
        return [
            "-o", f"Dir::Etc::SourceList={r / 'sources.list'}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={r / 'lists'}",
            "-o", f"Dir::Cache={r / 'cache'}",
            "-o", "Debug::NoLocking=1",
            "-o", "Acquire::Retries=1",
            "-o", f"Acquire::http::Timeout={TIMEOUT}",
            "-o", f"Acquire::https::Timeout={TIMEOUT}",
            # As root apt drops to _apt, who cannot write into our cache.
            *(["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []),
        ]

    def update(self) -> None:
        if self._updated:
            return
        if not self.mirror:
            raise SourceError(
                "no Debian archive address: none found in /etc/apt/sources.list{,.d}; "
                "set APAF_DEBIAN_MIRROR=<archive URL> or pass --debian-mirror"
            )
        if not shutil.which("apt-get"):
            raise ToolMissing("apt-get not found: the Debian mirror needs apt (Debian/Ubuntu builder)")
        for d in ("lists/partial", "cache/archives/partial"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        lines = [f"deb-src [signed-by={self.keyring}] {self.mirror} {s} main" for s in SUITES]
        suites = list(SUITES)
        security = self.security_mirror.rstrip("/") if self.security_mirror else None
        if security:
            lines += [f"deb-src [signed-by={self.keyring}] {security} {s} main" for s in SECURITY_SUITES]
            suites += SECURITY_SUITES
        else:
            self.log("  no Debian security archive in /etc/apt/sources.list{,.d} (nor "
                     "APAF_DEBIAN_SECURITY_MIRROR): security releases not yet in a point release are not seen")
        (self.root / "sources.list").write_text("\n".join(lines) + "\n")
        self.log(f"+ apt-get update (private root {self.root}, deb-src {', '.join(suites)})")
        proc = subprocess.run(["apt-get", *self._apt_opts(), "-qq", "update"],
                              capture_output=True, text=True)
        # apt exits 0 when an index did not download ("W: Failed to fetch ..."): read what it said.
        failed = [l for l in proc.stderr.splitlines() if l.startswith(("W:", "E:")) and "http" in l]
        if proc.returncode != 0 and not (security and failed and all(security in l for l in failed)):
            raise SourceError(f"apt-get update of the Debian source index failed:\n{proc.stderr.strip()}")
        if failed:
            # The security archive is optional: what the suites' own indexes list is still fetched.
            self.log("  these Debian indexes did not download; going on without them:\n"
                     + "\n".join(f"    {l}" for l in failed))
        self._updated = True

    def versions_with(self, package: str, filename: str) -> list[str]:
        """Debian versions of `package` whose source lists `filename` (newest index order)."""
        proc = subprocess.run(["apt-cache", *self._apt_opts(), "showsrc", package],
                              capture_output=True, text=True)
        versions, current = [], None
        for line in proc.stdout.splitlines():
            if line.startswith("Version:"):
                current = line.split()[1]
            elif current and filename in line.split() and current not in versions:
                versions.append(current)
        return versions

    def download(self, package: str, filename: str, dest: Path) -> list[Path]:
        """Download `filename` (and its `.asc` if Debian has it) into dest; [] when unavailable."""
        self.update()
        dest.mkdir(parents=True, exist_ok=True)
        for version in self.versions_with(package, filename):
            self.log(f"+ apt-get source --download-only {package}={version}")
            subprocess.run(["apt-get", *self._apt_opts(), "-qq", "source", "--download-only",
                            f"{package}={version}"], cwd=dest, capture_output=True, text=True)
            if (dest / filename).is_file():
                return [p for p in (dest / filename, dest / f"{filename}.asc") if p.is_file()]
        return []

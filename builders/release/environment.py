"""What a builder's steps ran with: its Debian packages and the build tools' versions.

A step's key holds its builder's identity (the local builder: the Debian versions of the
target's packages; docker: the image id), so the environment queried here at release time,
for the identity the steps were keyed with, is the one the cached steps were built in.
PyInstaller and staticx come from the wheels step, which installs only what
toolchains/recipes/wheels/tools.lock pins by hash: their versions are the lock's.
"""
from __future__ import annotations

import re
import subprocess

from ..bundle.lock import pins
from ..errors import ToolMissing
from ..recipes import Target

DPKG_FORMAT = "${Package}\t${Version}\t${db:Status-Abbrev}\n"
# Debian package -> the program it gives the build, for the SBOM's tool list.
TOOL_PACKAGES = {"gcc": "gcc", "musl-tools": "musl-gcc", "binutils": "ld/objcopy", "libc6-dev": "glibc",
                 "dpkg": "dpkg-deb", "rpm": "rpmbuild", "patchelf": "patchelf"}


def _parse(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            out[parts[0].split(":")[0]] = parts[1]
    return dict(sorted(out.items()))


def debian_packages(executor, target: Target) -> dict[str, str]:
    """{package: version} of every Debian package installed where this executor runs steps."""
    kind = executor.name.split(":")[0]
    if kind == "docker":
        image = executor.identity(target).split(":", 1)[1]
        try:
            out = executor.client.containers.run(image, ["dpkg-query", "-W", "-f", DPKG_FORMAT],
                                                 network_mode="none", remove=True)
        except Exception as exc:  # noqa: BLE001 - docker's own errors say what failed
            raise ToolMissing(f"cannot list the Debian packages of image {image}: {exc}") from exc
        return _parse(out.decode())
    if kind == "local":
        proc = subprocess.run(["dpkg-query", "-W", "-f", DPKG_FORMAT], capture_output=True, text=True)
        return _parse(proc.stdout)
    return {}   # ssh and macOS builders: their identity string is recorded, no package list


def build_tools(packages: dict[str, str], tools_lock) -> dict[str, str]:
    """{tool: version}: the compiler and packagers from the builder's packages, the freezers from the lock."""
    tools = {}
    for pkg, tool in TOOL_PACKAGES.items():
        if pkg in packages:
            tools[tool] = packages[pkg]
    for pkg, version in packages.items():
        if re.fullmatch(r"gcc-\d+", pkg):
            tools[pkg] = version
    locked = pins(tools_lock)
    for name in ("pyinstaller", "staticx"):
        if name in locked:
            tools[name] = locked[name]
    return dict(sorted(tools.items()))

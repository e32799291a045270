"""Toolchain images for the docker builder, made here from Debian (never pulled).

An image definition is `toolchains/images/<name>.toml` (suite, extra suites,
packages). Its packages are that list plus every package of every target
whose `image` is <name> and of those targets' app bundles (toolchains/bundles/). `build_image` debootstraps the suite into a temp
root, installs the packages with apt inside it, removes apt's caches and
logs, tars the root deterministically (sorted, one mtime, numeric owners)
and feeds it to `docker import` as `apaf/<name>:<definition hash>`; an
existing tag is not rebuilt. Needs root (debootstrap and chroot) and the
`debootstrap` Debian package. Downloaded .debs are kept in
`<cache>/images/debs/`, so a rebuild downloads nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import ConfigError, ExecutorError, FarmError, ToolMissing
from .recipes import list_targets, load_target
from .sources.debian import machine_mirror, machine_security_mirror

IMAGES = paths.TOOLCHAINS / "images"
BUNDLES = paths.TOOLCHAINS / "bundles"
REPOSITORY = "apaf"
_KEYS = {"suite", "updates", "security", "components", "variant", "packages", "source_date_epoch"}
# Left behind by apt and dpkg; they differ from run to run and nothing needs them.
_SCRUB = ["var/cache/apt", "var/lib/apt/lists", "var/log", "tmp", "var/tmp", "var/cache/debconf/templates.dat-old",
          "var/cache/debconf/config.dat-old", "var/lib/dpkg/status-old", "var/lib/dpkg/diversions-old",
          "var/cache/ldconfig/aux-cache", "etc/resolv.conf", "etc/hostname", "run", "root/.bash_history"]


@dataclass(frozen=True)
class ImageDef:
    name: str
    suite: str
    updates: tuple[str, ...]
    security: bool                     # also install from <suite>-security (the machine's security archive)
    components: tuple[str, ...]
    variant: str
    packages: tuple[str, ...]          # sorted union: definition + targets using it
    source_date_epoch: int

    def digest(self) -> str:
        doc = {k: getattr(self, k) for k in ("suite", "updates", "security", "components", "variant", "packages",
                                              "source_date_epoch")}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}/{self.name}:{self.digest()[:16]}"


def list_images() -> list[str]:
    return sorted(p.stem for p in IMAGES.glob("*.toml"))


def load_image(name: str) -> ImageDef:
    path = IMAGES / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"no image definition '{name}' ({path} missing); known images: "
                          f"{', '.join(list_images()) or 'none'}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    if "suite" not in data:
        raise ConfigError(f"{path}: `suite` is required (a Debian codename such as \"bookworm\")")
    packages = set(data.get("packages", []))
    using = set()
    for t in list_targets():
        target = load_target(t)
        if target.image == name:
            using.add(t)
            packages.update(target.packages)
    # App bundles (toolchains/bundles/<target>.toml) run their packaging steps in the target's image too.
    for spec in sorted(BUNDLES.glob("*.toml")):
        bundle = tomllib.loads(spec.read_text())
        if bundle.get("target", spec.stem) in using:
            packages.update(bundle.get("packages", []))
    return ImageDef(name=name, suite=data["suite"], updates=tuple(data.get("updates", [])),
                    security=bool(data.get("security", False)),
                    components=tuple(data.get("components", ["main"])), variant=data.get("variant", "minbase"),
                    packages=tuple(sorted(packages)), source_date_epoch=int(data.get("source_date_epoch", 0)))


def docker_client(timeout: int = 600):
    """A docker SDK client for $DOCKER_HOST (or the local socket), or a clear error.

    timeout bounds each API call, including the wait for a container's next log line.
    """
    try:
        import docker
    except ImportError as exc:
        raise ToolMissing("the docker SDK is not installed: run `ci/farm` (it installs ci/requirements.txt)") from exc
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - the SDK raises several kinds for "no engine"
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise ExecutorError(f"cannot reach the Docker engine at {where}: {exc}\n"
                            "  fix: start dockerd (or set DOCKER_HOST to a reachable engine, e.g. ssh://user@host)"
                            ) from exc
    return client


def image_id(client, tag: str) -> str | None:
    import docker
    try:
        return client.images.get(tag).id
    except docker.errors.ImageNotFound:
        return None


def _run(cmd: list[str], log, what: str) -> None:
    log("+ " + " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n    ".join(proc.stdout.splitlines()[-20:])
        raise FarmError(f"{what} failed (exit {proc.returncode}):\n    {tail}")


def _tar_root(root: Path, dest: Path, mtime: int) -> None:
    """Write root as a tar with sorted names, one mtime and numeric owners only."""
    def norm(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = mtime
        info.uname = info.gname = ""
        return info

    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                arc = name if rel == "." else f"{rel}/{name}"
                tar.add(full, arcname=arc, recursive=False, filter=norm)


def build_image(name: str, *, mirror: str | None = None, security_mirror: str | None = None, log=print,
                force: bool = False) -> tuple[str, str, bool]:
    """Make image `name` unless its tag exists; returns (tag, image id, built?)."""
    return build_spec(load_image(name), mirror=mirror, security_mirror=security_mirror, log=log, force=force)


def build_spec(spec: ImageDef, *, mirror: str | None = None, security_mirror: str | None = None, log=print,
               force: bool = False) -> tuple[str, str, bool]:
    """Make the image `spec` describes unless its tag exists (also for images no file defines, e.g. a test's)."""
    name = spec.name
    client = docker_client()
    existing = image_id(client, spec.tag)
    if existing and not force:
        return spec.tag, existing, False
    if os.geteuid() != 0:
        raise ToolMissing("images.build debootstraps a Debian root and chroots into it, which needs root: "
                          "run it as root (sudo ci/farm images.build)")
    if not shutil.which("debootstrap"):
        raise ToolMissing("debootstrap is not installed: apt-get install -y debootstrap (ci/farm installs it)")
    mirror = (mirror or os.environ.get("APAF_DEBIAN_MIRROR") or machine_mirror() or "").rstrip("/")
    if not mirror:
        raise ConfigError("no Debian archive address in /etc/apt/sources.list{,.d}; "
                          "pass --debian-mirror URL or set APAF_DEBIAN_MIRROR")
    work = paths.cache_root() / "images"
    debs = work / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    root = work / f"root-{name}"
    tarball = work / f"{name}.tar"
    shutil.rmtree(root, ignore_errors=True)
    try:
        _run(["debootstrap", f"--variant={spec.variant}", f"--components={','.join(spec.components)}",
              f"--cache-dir={debs}", spec.suite, str(root), mirror], log, "debootstrap")
        suites, components = " ".join((spec.suite, *spec.updates)), " ".join(spec.components)
        lines = [f"deb {mirror} {suites} {components}"]
        if spec.security:
            sec = (security_mirror or os.environ.get("APAF_DEBIAN_SECURITY_MIRROR") or machine_security_mirror())
            if not sec:
                raise ConfigError(f"image {name} wants security updates but no security archive is in "
                                  "/etc/apt/sources.list{,.d}; pass --security-mirror URL or set "
                                  "APAF_DEBIAN_SECURITY_MIRROR")
            lines.append(f"deb {sec.rstrip('/')} {spec.suite}-security {components}")
        (root / "etc/apt/sources.list").write_text("\n".join(lines) + "\n")
        (root / "usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")  # never start services
        os.chmod(root / "usr/sbin/policy-rc.d", 0o755)
        # A private mount namespace: /proc and the .deb cache vanish with it, even on a crash.
        script = (f"mount -t proc proc {root}/proc && mount --bind {debs} {root}/var/cache/apt/archives && "
                  f"chroot {root} apt-get -qq update && "
                  f"DEBIAN_FRONTEND=noninteractive chroot {root} apt-get install -y -qq --no-install-recommends "
                  + " ".join(spec.packages))
        _run(["unshare", "--mount", "--propagation", "private", "sh", "-ec", script], log, "apt-get install")
        (root / "usr/sbin/policy-rc.d").unlink()
        (root / "etc/apt/sources.list").write_text("")  # the image never needs the archive again
        for rel in _SCRUB:
            p = root / rel
            if p.is_dir() and not p.is_symlink():
                for child in p.iterdir():
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            elif p.exists() or p.is_symlink():
                p.unlink()
        (root / "etc/machine-id").write_text("")
        log(f"+ tar (sorted, mtime {spec.source_date_epoch}) and docker import as {spec.tag}")
        _tar_root(root, tarball, spec.source_date_epoch)
        repo, _, tag = spec.tag.partition(":")
        changes = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   f"LABEL apaf.image={name} apaf.definition={spec.digest()}", 'CMD ["/bin/sh"]']
        client.api.import_image_from_file(str(tarball), repository=repo, tag=tag, changes=changes)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        tarball.unlink(missing_ok=True)
    new = image_id(client, spec.tag)
    if not new:
        raise ExecutorError(f"docker import reported no error but {spec.tag} is not in the engine")
    return spec.tag, new, True


def image_status() -> list[dict]:
    """Each definition: its tag and whether the engine has it (and its id and size)."""
    client = docker_client()
    rows = []
    for name in list_images():
        spec = load_image(name)
        found = image_id(client, spec.tag)
        size = client.images.get(found).attrs.get("Size", 0) if found else 0
        rows.append({"name": name, "tag": spec.tag, "id": found, "bytes": size, "packages": len(spec.packages)})
    return rows

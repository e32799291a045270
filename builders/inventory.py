"""The SSH builder inventory: `ci/builders.toml` (or `$APAF_BUILDERS`), one table per host.

    [builders.NAME]
    host = "build1.example"        # required
    port = 22
    user = "root"                  # root, or a user allowed user namespaces (unshare)
    key = "~/.ssh/apaf_builder"    # required: private key file (key auth only)
    known_hosts = "~/.ssh/known_hosts"   # host keys are checked against it, never added
    targets = ["linux-x86_64"]     # what it can build (empty: any target)
    os = "linux"                   # or "macos": how steps run there (builders/executors/platforms/)
    build_root = "/Users/Shared/apaf"    # macOS only: the fixed, locked root every step runs in
    work_dir = "/var/tmp/apaf"     # each step uses a fresh folder below it, removed after
    retries = 2                    # a dropped link re-runs the step this many more times
    retry_delay = 5.0              # seconds between attempts
    connect_timeout = 15.0         # seconds to connect, see the banner and log in
    link_timeout = 30.0            # a link that leaves a keepalive unanswered is declared dead
                                   # within this many seconds (at least 20 s after it went
                                   # silent, at most this) and the step is retried; a quiet
                                   # but alive step is never cut

Relative paths are relative to the inventory file.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import ConfigError

_KEYS = {"host", "port", "user", "key", "known_hosts", "targets", "work_dir", "retries", "retry_delay", "os", "build_root",
         "connect_timeout", "link_timeout"}


@dataclass(frozen=True)
class Host:
    name: str
    host: str
    key: Path
    known_hosts: Path
    port: int = 22
    user: str = "root"
    targets: tuple[str, ...] = ()
    work_dir: str = "/var/tmp/apaf"
    retries: int = 2
    retry_delay: float = 5.0
    connect_timeout: float = 15.0
    os: str = "linux"
    build_root: str = ""            # macOS hosts; "" = the platform's default
    link_timeout: float = 30.0

    @property
    def address(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def can_build(self, target: str) -> bool:
        return not self.targets or target in self.targets


def inventory_path() -> Path:
    return Path(os.environ.get("APAF_BUILDERS") or paths.REPO / "ci" / "builders.toml")


def load_inventory(path: Path | None = None) -> dict[str, Host]:
    path = Path(path or inventory_path())
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    hosts = {}
    for name, spec in data.get("builders", {}).items():
        where = f"{path}: [builders.{name}]"
        for key in spec:
            if key not in _KEYS:
                close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
                raise ConfigError(f"{where}: unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        for key in ("host", "key"):
            if key not in spec:
                raise ConfigError(f"{where}: `{key}` is required")

        def local(p: str) -> Path:
            return (path.parent / Path(p).expanduser()).resolve()

        hosts[name] = Host(name=name, host=spec["host"], key=local(spec["key"]),
                           known_hosts=local(spec.get("known_hosts", "~/.ssh/known_hosts")),
                           port=int(spec.get("port", 22)), user=spec.get("user", "root"),
                           targets=tuple(spec.get("targets", [])),
                           work_dir=_build_path(where, "work_dir", spec.get("work_dir", "/var/tmp/apaf")),
                           retries=int(spec.get("retries", 2)), retry_delay=float(spec.get("retry_delay", 5.0)),
                           connect_timeout=float(spec.get("connect_timeout", 15.0)),
                           os=_os(where, spec.get("os", "linux")), build_root=_build_path(where, "build_root", spec.get("build_root", "")),
                           link_timeout=_link_timeout(where, spec.get("link_timeout", 30.0)))
    return hosts


def _link_timeout(where: str, value) -> float:
    # Below a few seconds a busy host or a rekey would be taken for a dead link.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 3:
        raise ConfigError(f"{where}: link_timeout must be a number of seconds >= 3, got {value!r}")
    return float(value)


def _os(where: str, value) -> str:
    from .recipes import check_os
    return check_os(where, "os", value)


def _build_path(where: str, key: str, value) -> str:
    # Configure scripts and compilers break on spaces and shell metacharacters, and a
    # relative path would depend on the login directory of the SSH user.
    if value == "" and key == "build_root":
        return value  # the platform's default
    if not isinstance(value, str) or not re.fullmatch(r"/[A-Za-z0-9._/-]*", value) or "/../" in value + "/":
        raise ConfigError(f"{where}: {key} = {value!r} must be an absolute path of letters, digits and . _ - / "
                          f"only (no spaces, quotes or '..'), e.g. \"/var/tmp/apaf\"")
    return value.rstrip("/") or "/"


def get_host(name: str, path: Path | None = None) -> Host:
    hosts = load_inventory(path)
    if name not in hosts:
        where = Path(path or inventory_path())
        known = ", ".join(sorted(hosts)) or "none"
        raise ConfigError(f"no SSH builder '{name}' in {where} (known: {known}); add a [builders.{name}] table "
                          "with host, user, key and known_hosts")
    return hosts[name]

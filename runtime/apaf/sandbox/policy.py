"""What one app may touch, from its manifest's privileges: one platform-neutral Policy.

Every platform module (linux, macos, windows) turns the same Policy into its own rules, and
the refusal logger (apaf.sandbox.audit) asks the same Policy what it would refuse, so what is
enforced, what is logged and what the admin UI shows never disagree.

    p = Policy.for_app(manifest, data_dir=..., tmp_dir=..., status_file=..., socks_port=9050,
                       app_port=8080, runtime_paths=runtime_paths())

The app binds no port: the runtime holds its listening socket and hands it over
(apaf.apps.handover). `own_bind=True` is only for a host that cannot (Windows), where the app
binds its own port.
    p.may_read(path)  p.may_write(path)  p.may_execute(path)  p.may_connect(port)  p.may_bind(port)
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

OUTBOUND_TOR, TOR_STATUS, RUN_BINARIES = "outbound-tor", "tor-status", "run-binaries"
# The manifest's grants, handed by the runtime to each app process (Grant).
PRIVILEGES_VAR, BINARIES_VAR = "APAF_PRIVILEGES", "APAF_EXTRA_BINARIES"

# Shared libraries, loader data and public tables: nothing secret; Python loads extension modules
# and their libraries lazily (ssl, ctypes, zlib) from here.
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime",
               "/etc/mime.types",  # mimetypes (aiohttp) reads it when present
               "/usr/share/zoneinfo", "/dev/urandom", "/dev/random")
# Device files every program may read and write.
SYSTEM_READ_WRITE = ("/dev/null", "/dev/zero", "/dev/full")


def runtime_paths(data_root: Path | None = None) -> tuple[str, ...]:
    """The Python runtime this process runs on: prefixes, sys.path entries, the bundle's unpack dir.

    A sys.path entry that is `/`, the home directory, or holds the runtime's data directory
    is left out: it would open everything beneath it.
    """
    home = os.path.realpath(os.path.expanduser("~"))
    import apaf  # an editable install finds it through an import hook, not sys.path

    cands = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), getattr(sys, "_MEIPASS", ""),
             os.path.dirname(apaf.__file__)]
    cands += [p for p in sys.path if p]
    out = []
    for p in cands:
        if not p or not os.path.exists(p):
            continue
        real = os.path.realpath(p)
        if real in ("/", home) or (data_root and _beneath(str(Path(data_root).resolve()), real)):
            continue
        if real not in out:
            out.append(real)
    return tuple(out)


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass(frozen=True)
class Grant:
    """What the sandbox reads of an app's manifest: its name, folder, privileges and programs.

    The runtime has validated apaf.toml; it hands these to the app process in its environment
    (`environment(manifest)`, then `Grant.from_environment()` in the app process), so an app
    process confines itself without parsing TOML: tomllib, the manifest's checks and the SPDX
    licence table would stay in every app's memory for nothing (~1.5 MB of each process).
    Where a Manifest is expected (Policy.for_app, apaf.binaries.executables) a Grant will do.
    """

    name: str
    app_dir: Path
    privileges: tuple[str, ...] = ()
    extra_binaries: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.app_dir / "apaf.toml"  # named in apaf.binaries' messages

    @staticmethod
    def environment(manifest) -> dict[str, str]:
        """The variables a Grant is read from (the names are simple words: no quoting needed)."""
        return {PRIVILEGES_VAR: " ".join(manifest.privileges), BINARIES_VAR: " ".join(manifest.extra_binaries)}

    @classmethod
    def from_environment(cls, app_dir: str, env=os.environ) -> "Grant":
        """The Grant the runtime handed over; a launcher started without it reads apaf.toml."""
        if PRIVILEGES_VAR not in env:
            from apaf.manifest import load_manifest
            m = load_manifest(app_dir)
            return cls(m.name, m.app_dir, m.privileges, m.extra_binaries)
        return cls(env["APAF_APP_NAME"], Path(app_dir).absolute(),
                   tuple(env[PRIVILEGES_VAR].split()), tuple(env.get(BINARIES_VAR, "").split()))


@dataclass(frozen=True)
class Policy:
    """Resolved, absolute paths and ports; `privileges` as the manifest grants them."""

    app: str
    privileges: tuple[str, ...]
    read_only: tuple[str, ...]       # read (and list) beneath each
    read_write: tuple[str, ...]      # read, write, create, delete beneath each
    executables: tuple[str, ...]     # the only files execve() may run
    connect_ports: tuple[int, ...]   # TCP connect (the SOCKS port with outbound-tor)
    bind_ports: tuple[int, ...]      # TCP bind: none where the runtime hands the socket over
    status_file: str = ""            # readable only with tor-status
    serve_port: int = 0              # the app's port: accepted on (an inherited socket), not bound

    @classmethod
    def for_app(cls, manifest, *, data_dir, tmp_dir=None, status_file=None, socks_port=None,
                app_port=None, own_bind=False, runtime_paths=(), executables=()) -> "Policy":
        privs = tuple(manifest.privileges)
        ro = [str(Path(manifest.app_dir).resolve()), *runtime_paths, *SYSTEM_READ]
        if status_file and TOR_STATUS in privs:
            # The runtime replaces the file by rename: the rule must be on its own directory,
            # which holds nothing else (apaf.paths.Layout.app_status).
            ro.append(str(Path(status_file).resolve().parent))
        exe = tuple(str(Path(e).resolve()) for e in executables) if RUN_BINARIES in privs else ()
        ro += sorted({str(Path(e).parent) for e in exe})  # gpg finds its helpers beside it
        rw = [str(Path(d).resolve()) for d in (data_dir, tmp_dir) if d] + list(SYSTEM_READ_WRITE)
        return cls(
            app=manifest.name, privileges=privs, read_only=tuple(dict.fromkeys(ro)),
            read_write=tuple(dict.fromkeys(rw)), executables=exe,
            connect_ports=(int(socks_port),) if socks_port and OUTBOUND_TOR in privs else (),
            bind_ports=(int(app_port),) if app_port and own_bind else (),
            status_file=str(status_file or ""), serve_port=int(app_port or 0),
        )

    # -- questions the audit logger and the tests ask ----------------------------------
    def may_read(self, path) -> bool:
        p = os.path.realpath(path)
        return any(_beneath(p, r) for r in self.read_only + self.read_write) or p in self.executables

    def may_write(self, path) -> bool:
        p = os.path.realpath(path)
        return any(_beneath(p, r) for r in self.read_write)

    def may_execute(self, path) -> bool:
        return os.path.realpath(path) in self.executables

    def may_connect(self, port: int) -> bool:
        return port in self.connect_ports

    def may_bind(self, port: int) -> bool:
        return port in self.bind_ports

    # -- handed from the runtime to the app process -------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Policy":
        raw = json.loads(text)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})

"""The `apaf.toml` schema, shared by the runtime and the build farm: load, validate, describe.

`load_manifest(path)` takes an app directory or the apaf.toml itself and returns a frozen
`Manifest`, or raises `apaf.errors.ManifestError` whose message names the file, the field
and the fix. Unknown keys are errors too (with a "did you mean" hint), so a typo never
silently drops a setting.

    [app]
    name = "chat"                 # required, ^[a-z][a-z0-9-]{0,39}$
    version = "1.0.0"             # required
    entry = "chat_app:main"       # required, module:function importable from the app dir
    title, description            # optional strings
    icon, splash                  # optional paths relative to the app dir; must exist
    dependencies = ["aiohttp"]    # optional pip requirement strings
    privileges = []               # optional, from PRIVILEGES below
    extra_binaries = ["gpg"]      # optional, from apaf.binaries.PROGRAMS (built by the farm,
                                  # carried in the bundle); needs privilege run-binaries
    ports = [80]                  # onion virtual ports; the app serves HTTP on the first
    bundle_id = "org.example.chat"  # optional macOS bundle identifier (reverse DNS);
                                  # default "org.apaf.<name>"
    maintainer = "Ada Lovelace <ada@example.org>"  # who answers for the .deb/.rpm: "Name <address>"
    license = "MIT"               # the app's licence, an SPDX expression ("GPL-3.0-or-later",
                                  # "Apache-2.0 OR MIT", "LicenseRef-<name>" for your own terms)
                                  # maintainer and license: optional to run, needed to package
    [settings]                    # optional, free-form; handed to the app as JSON
"""
from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from apaf.binaries import PRIVILEGE as RUN_BINARIES, PROGRAMS
from apaf.errors import ManifestError

MANIFEST_NAME = "apaf.toml"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# Apple's CFBundleIdentifier: letters, digits, '-' and '.', reverse-DNS, at least two parts.
# 155 is the longest the App Store and notarization accept.
BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
BUNDLE_ID_MAX = 155
# RFC 5322's name-addr as Debian's Maintainer field and rpm's Packager want it: a display
# name, one space, an address in angle brackets.
MAINTAINER_RE = re.compile(r"^[^<>@\s,]([^<>@,]*[^<>@\s,])? <[^<>@\s]+@[^<>@\s]+\.[^<>@\s.]+>$")
ENTRY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
# A PEP 508 requirement starts with a distribution name; the rest is pip's business.
REQUIREMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*([<>=!~;@ ].*)?$")

# The fixed set of privileges an app may ask for; shown to the user, enforced by the
# runtime where it can be.
PRIVILEGES = {
    "outbound-tor": "open connections to other hosts and onion services through Tor",
    "tor-status": "read Tor's status and the runtime's status file",
    "run-binaries": "execute the programs listed in extra_binaries",
}

_TOP_KEYS = {"app", "settings"}
_APP_KEYS = {
    "name", "version", "entry", "title", "description", "icon", "splash",
    "dependencies", "privileges", "extra_binaries", "ports", "bundle_id", "maintainer", "license",
}


@dataclass(frozen=True)
class Manifest:
    """A validated apaf.toml. Paths are absolute; `settings` is the free-form [settings] table."""

    path: Path
    app_dir: Path
    name: str
    version: str
    entry: str
    title: str
    description: str = ""
    icon: Path | None = None
    splash: Path | None = None
    dependencies: tuple[str, ...] = ()
    privileges: tuple[str, ...] = ()
    extra_binaries: tuple[str, ...] = ()
    ports: tuple[int, ...] = (80,)
    bundle_id: str = ""
    maintainer: str = ""            # "Name <address>", or "" when the manifest gives none
    license: str = ""               # a canonical SPDX expression, or ""
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def http_port(self) -> int:
        """The onion virtual port the app's HTTP server is published on."""
        return self.ports[0]


class _Checker:
    """Builds ManifestErrors that all name the same file."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, field_name: str, problem: str, fix: str) -> ManifestError:
        return ManifestError(f"{self.path}: {field_name}: {problem}; {fix}")

    def unknown(self, table: str, keys: set[str], known: set[str]) -> None:
        for key in sorted(keys - known):
            hint = _closest(key, sorted(known), n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(sorted(known))}"
            label = f"[{table}].{key}" if table else f"[{key}]"
            raise self.fail(label, "unknown key", fix)

    def string(self, app: dict, key: str, required: bool, fix: str) -> str:
        if key not in app:
            if required:
                raise self.fail(f"[app].{key}", "missing", fix)
            return ""
        value = app[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"[app].{key}", f"{value!r} must be a non-empty string", fix)
        return value

    def str_list(self, app: dict, key: str) -> list[str]:
        value = app.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"[app].{key}", f"{value!r} must be a list of strings",
                            f'write it as {key} = ["..."]')
        return value

    def relative_file(self, app_dir: Path, key: str, value: str) -> Path:
        rel = PurePosixPath(value)
        if rel.is_absolute() or ".." in rel.parts or not value:
            raise self.fail(f"[app].{key}", f"{value!r} must be a path inside the app directory",
                            "give it relative to the folder holding apaf.toml, without '..'")
        target = app_dir / rel
        if not target.is_file():
            raise self.fail(f"[app].{key}", f"{value!r} does not exist ({target})",
                            "add the file or fix the path")
        return target


def load_manifest(path: Path | str) -> Manifest:
    """Load and validate an app's manifest; `path` is the app directory or its apaf.toml."""
    path = Path(path).absolute()
    if not path.exists():
        raise ManifestError(f"{path}: no such app directory; pass the folder that holds the app's "
                            f"{MANIFEST_NAME}")
    if path.is_dir():
        path = path / MANIFEST_NAME
    check = _Checker(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: no manifest; every app directory needs an {MANIFEST_NAME} with an [app] table "
            "(name, version, entry)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ManifestError(f"{path}: not valid TOML ({err}); fix the syntax at that spot") from None
    return _validate(raw, path, check)


def _validate(raw: dict, path: Path, check: _Checker) -> Manifest:
    check.unknown("", set(raw), _TOP_KEYS)
    app = raw.get("app")
    if not isinstance(app, dict):
        raise check.fail("[app]", "missing", 'add an [app] table with name, version and entry')
    check.unknown("app", set(app), _APP_KEYS)
    app_dir = path.parent

    name = check.string(app, "name", True, 'add name = "my-app"')
    if not NAME_RE.match(name):
        raise check.fail("[app].name", f"{name!r} must match {NAME_RE.pattern}",
                         "use lowercase letters, digits and '-', starting with a letter, at most 40")
    version = check.string(app, "version", True, 'add version = "1.0.0"')
    entry = check.string(app, "entry", True, 'add entry = "module:function"')
    if not ENTRY_RE.match(entry):
        raise check.fail("[app].entry", f"{entry!r} is not module:function",
                         'write it like "my_app:main" (a module importable from the app directory)')
    title = check.string(app, "title", False, 'write title = "My App"') or name
    description = check.string(app, "description", False, 'write description = "..."')

    icon = splash = None
    if "icon" in app:
        icon = check.relative_file(app_dir, "icon", check.string(app, "icon", True, 'icon = "icon.png"'))
    if "splash" in app:
        splash = check.relative_file(app_dir, "splash",
                                     check.string(app, "splash", True, 'splash = "splash.png"'))

    deps = check.str_list(app, "dependencies")
    for dep in deps:
        if not REQUIREMENT_RE.match(dep.strip()):
            raise check.fail("[app].dependencies", f"{dep!r} is not a pip requirement",
                             'write each like "aiohttp>=3.9"')
    privileges = check.str_list(app, "privileges")
    for priv in privileges:
        if priv not in PRIVILEGES:
            hint = _closest(priv, sorted(PRIVILEGES), n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"choose from {', '.join(sorted(PRIVILEGES))}"
            raise check.fail("[app].privileges", f"unknown privilege {priv!r}", fix)
    binaries = check.str_list(app, "extra_binaries")
    for prog in binaries:
        if prog not in PROGRAMS:
            hint = _closest(prog, sorted(PROGRAMS), n=1)
            fix = (f"did you mean '{hint[0]}'? " if hint else "") + \
                f"the farm builds: {', '.join(sorted(PROGRAMS))} (a new one needs a recipe)"
            raise check.fail("[app].extra_binaries", f"unknown program {prog!r}", fix)
    if len(set(binaries)) != len(binaries):
        raise check.fail("[app].extra_binaries", f"{binaries!r} lists a program twice", "list each once")
    if binaries and RUN_BINARIES not in privileges:
        raise check.fail("[app].privileges", f"extra_binaries lists {', '.join(binaries)} but "
                         f"{RUN_BINARIES!r} is not granted", f'add "{RUN_BINARIES}" to privileges')

    ports = app.get("ports", [80])
    if (not isinstance(ports, list) or not ports
            or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535 for p in ports)):
        raise check.fail("[app].ports", f"{ports!r} must be a non-empty list of ports 1-65535",
                         "write it like ports = [80]")
    if len(set(ports)) != len(ports):
        raise check.fail("[app].ports", f"{ports!r} lists a port twice", "list each port once")

    bundle_id = check.string(app, "bundle_id", False, 'write bundle_id = "org.example.my-app"')
    if "bundle_id" in app and (not BUNDLE_ID_RE.match(bundle_id) or len(bundle_id) > BUNDLE_ID_MAX):
        raise check.fail("[app].bundle_id", f"{bundle_id!r} is not a macOS bundle identifier",
                         "use reverse-DNS form like \"org.example.my-app\": letters, digits, '-' "
                         f"and '.', at least two parts, at most {BUNDLE_ID_MAX} characters")
    bundle_id = bundle_id or f"org.apaf.{name}"

    maintainer = check.string(app, "maintainer", False, 'write maintainer = "Your Name <you@example.org>"')
    if "maintainer" in app and not MAINTAINER_RE.match(maintainer):
        raise check.fail("[app].maintainer", f"{maintainer!r} is not 'Name <address>'",
                         'write it like maintainer = "Ada Lovelace <ada@example.org>" (a name, a space, '
                         "the e-mail address in angle brackets; one person or team)")
    license_ = spdx_expression(check, check.string(app, "license", False, 'write license = "MIT"')) \
        if "license" in app else ""

    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise check.fail("[settings]", "must be a table", "write it as a [settings] section")

    return Manifest(
        path=path, app_dir=app_dir, name=name, version=version, entry=entry, title=title,
        description=description, icon=icon, splash=splash, dependencies=tuple(deps),
        privileges=tuple(privileges), extra_binaries=tuple(binaries), ports=tuple(ports),
        bundle_id=bundle_id, maintainer=maintainer, license=license_, settings=settings,
    )


SPDX_MODULES = ("packaging.licenses", "packaging.licenses._spdx")


def _closest(word: str, options, n: int = 1) -> list[str]:
    import difflib  # only for an error's hint: not kept by every process that loads a manifest

    return difflib.get_close_matches(word, options, n=n)


def spdx_expression(check: _Checker, value: str) -> str:
    """`value` as a canonical SPDX license expression (PEP 639's rules, packaging's SPDX list)."""
    # Imported here, and forgotten again if imported here: the SPDX table (~1 MB of a process's
    # memory) is needed once per manifest, and the runtime and each app process would keep it.
    fresh = [name for name in SPDX_MODULES if name not in sys.modules]
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
    try:
        return str(canonicalize_license_expression(value))
    except InvalidLicenseExpression as err:
        raise check.fail("[app].license", f"{value!r} is not an SPDX license expression ({err})",
                         'use identifiers from https://spdx.org/licenses/ such as "MIT" or "GPL-3.0-or-later", '
                         'joined with AND, OR, WITH and parentheses, or "LicenseRef-<name>" for your own terms') \
            from None
    finally:
        for name in fresh:
            module = sys.modules.pop(name, None)
            parent, _, child = name.rpartition(".")
            if module is not None and getattr(sys.modules.get(parent), child, None) is module:
                delattr(sys.modules[parent], child)  # the import system's binding of it

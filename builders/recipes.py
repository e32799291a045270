"""Recipes (toolchains/recipes/<name>/) and targets (toolchains/targets/<name>.toml).

A recipe is data plus a build script: `recipe.toml` names its sources (from
tor-src/sources.toml) and the recipes it depends on; `build.sh` runs inside
the step contract described in `toolchains/recipes/common.sh`. A target says
which recipes it builds with which toolchain (compiler variables), and for
which operating system (`os`, default linux).

OS variants: a file `<stem>.<os>.<ext>` in a recipe folder (or `common.<os>.sh`
beside the recipes) replaces `<stem>.<ext>` for steps that run on that OS and
is invisible to every other OS, so a macOS script never changes a Linux
step's key. A recipe may pin where it runs (`runs_on = "linux"`: any Linux
builder, whatever the target's OS).
"""
from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import ConfigError

COMMON = "common.sh"
OSES = ("linux", "macos")            # what a target's `os` and a recipe's `runs_on` may name
_RECIPE_KEYS = {"sources", "deps", "inputs", "network", "runs_on"}
_TARGET_KEYS = {"name", "description", "builders", "image", "packages", "toolchains", "outputs",
                "source_date_epoch", "os"}
_VARIANT = re.compile(r"^(?P<stem>.+)\.(?P<os>" + "|".join(OSES) + r")(?P<ext>\.[^.]+)$")


def variant_files(files: dict[str, Path], os_name: str) -> dict[str, Path]:
    """{name as the step sees it: file}: `x.<os_name>.ext` replaces `x.ext`; other OSes' variants dropped."""
    out: dict[str, Path] = {}
    for name, path in sorted(files.items()):
        m = _VARIANT.match(name)
        if m is None:
            out.setdefault(name, path)
        elif m["os"] == os_name:
            out[m["stem"] + m["ext"]] = path
    return out


@dataclass(frozen=True, kw_only=True)
class Recipe:
    name: str
    dir: Path
    sources: tuple[str, ...]
    deps: tuple[str, ...]
    inputs: tuple[str, ...] = ()   # named folders given by the caller (e.g. "app"), hashed into the key
    network: bool = False          # true only for fetch steps whose downloads are pinned by hash
    os: str = "linux"              # the OS the step runs on: picks the OS variant of each file

    def files(self) -> dict[str, bytes]:
        """Every file that defines the recipe for its OS (hashed into step keys), plus common.sh."""
        found = {p.relative_to(self.dir).as_posix(): p
                 for p in sorted(self.dir.rglob("*")) if p.is_file() and p.name != "README.md"}
        common = {p.name: p for p in self.dir.parent.glob("common*.sh")}
        out = {name: p.read_bytes() for name, p in variant_files(found, self.os).items()}
        out[COMMON] = variant_files(common, self.os)[COMMON].read_bytes()
        return out

    def digest(self) -> str:
        h = hashlib.sha256()
        for name, data in sorted(self.files().items()):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()


@dataclass(frozen=True, kw_only=True)
class Target:
    name: str
    path: Path
    description: str
    builders: tuple[str, ...]
    image: str
    packages: tuple[str, ...]
    source_date_epoch: int
    toolchains: dict[str, dict[str, str]] = field(hash=False)
    outputs: dict[str, str] = field(hash=False)
    os: str = "linux"               # where its compile steps run; recipes may pin their own (runs_on)

    def digest(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def recipes_root(self) -> Path:
        """Recipes live beside targets: toolchains/{targets,recipes}/."""
        return self.path.parent.parent / "recipes"


def _unknown(where: str, data: dict, known: set[str]) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def check_os(where: str, key: str, value: str) -> str:
    if value not in OSES:
        raise ConfigError(f"{where}: {key} = \"{value}\" is not an OS the farm builds on; use one of: {', '.join(OSES)}")
    return value


def load_recipe(name: str, root: Path | None = None, target_os: str = "linux") -> Recipe:
    """The recipe as seen by a step of a target for target_os (its runs_on, if any, wins)."""
    root = root or paths.RECIPES
    d = root / name
    if not (d / "recipe.toml").is_file():
        known = sorted(p.name for p in root.iterdir() if (p / "recipe.toml").is_file())
        raise ConfigError(f"no recipe '{name}' ({d / 'recipe.toml'} missing); known recipes: {', '.join(known)}")
    # runs_on is read from the plain recipe.toml: it decides which variant the rest comes from.
    base = _toml(d / "recipe.toml")
    os_name = check_os(str(d / "recipe.toml"), "runs_on", base.get("runs_on", target_os))
    spec = d / f"recipe.{os_name}.toml"
    if not spec.is_file():
        spec = d / "recipe.toml"
    data = base if spec.name == "recipe.toml" else _toml(spec)
    _unknown(str(spec), data, _RECIPE_KEYS)
    if not (d / "build.sh").is_file() and not (d / f"build.{os_name}.sh").is_file():
        raise ConfigError(f"{d}: build.sh is missing; every recipe needs one")
    return Recipe(name=name, dir=d, sources=tuple(data.get("sources", [])),
                  deps=tuple(data.get("deps", [])), inputs=tuple(data.get("inputs", [])),
                  network=bool(data.get("network", False)), os=os_name)


def list_targets(root: Path | None = None) -> list[str]:
    root = root or paths.TARGETS
    return sorted(p.stem for p in root.glob("*.toml"))


def load_target(name: str, root: Path | None = None) -> Target:
    root = root or paths.TARGETS
    path = root / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown target '{name}'; known targets: {', '.join(list_targets(root))}")
    data = _toml(path)
    _unknown(str(path), data, _TARGET_KEYS)
    toolchains = data.get("toolchains", {})
    outputs = data.get("outputs", {})
    for recipe, tc in outputs.items():
        if tc not in toolchains:
            raise ConfigError(f"{path}: [outputs].{recipe} uses toolchain '{tc}', "
                              f"which [toolchains] does not define ({', '.join(toolchains)})")
    return Target(name=data.get("name", name), path=path, description=data.get("description", ""),
                  builders=tuple(data.get("builders", ["local"])), image=data.get("image", ""),
                  packages=tuple(data.get("packages", [])),
                  source_date_epoch=int(data.get("source_date_epoch", 0)), toolchains=toolchains, outputs=outputs,
                  os=check_os(str(path), "os", data.get("os", "linux")))

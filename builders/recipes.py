"""Recipes (toolchains/recipes/<name>/) and targets (toolchains/targets/<name>.toml).

A recipe is data plus a build script: `recipe.toml` names its sources (from
tor-src/sources.toml) and the recipes it depends on; `build.sh` runs inside
the step contract described in `toolchains/recipes/common.sh`. A target says
which recipes it builds with which toolchain (compiler variables).
"""
from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import ConfigError

COMMON = "common.sh"
_RECIPE_KEYS = {"sources", "deps", "inputs", "network"}
_TARGET_KEYS = {"name", "description", "builders", "image", "packages", "toolchains", "outputs",
                "source_date_epoch"}


@dataclass(frozen=True, kw_only=True)
class Recipe:
    name: str
    dir: Path
    sources: tuple[str, ...]
    deps: tuple[str, ...]
    inputs: tuple[str, ...] = ()   # named folders given by the caller (e.g. "app"), hashed into the key
    network: bool = False          # true only for fetch steps whose downloads are pinned by hash

    def files(self) -> dict[str, bytes]:
        """Every file that defines the recipe (hashed into step keys), plus common.sh."""
        out = {p.relative_to(self.dir).as_posix(): p.read_bytes()
               for p in sorted(self.dir.rglob("*")) if p.is_file() and p.name != "README.md"}
        out[COMMON] = (self.dir.parent / COMMON).read_bytes()
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


def load_recipe(name: str, root: Path | None = None) -> Recipe:
    root = root or paths.RECIPES
    d = root / name
    spec = d / "recipe.toml"
    if not spec.is_file():
        known = sorted(p.name for p in root.iterdir() if (p / "recipe.toml").is_file())
        raise ConfigError(f"no recipe '{name}' ({spec} missing); known recipes: {', '.join(known)}")
    data = _toml(spec)
    _unknown(str(spec), data, _RECIPE_KEYS)
    if not (d / "build.sh").is_file():
        raise ConfigError(f"{d}: build.sh is missing; every recipe needs one")
    return Recipe(name=name, dir=d, sources=tuple(data.get("sources", [])),
                  deps=tuple(data.get("deps", [])), inputs=tuple(data.get("inputs", [])),
                  network=bool(data.get("network", False)))


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
                  source_date_epoch=int(data.get("source_date_epoch", 0)), toolchains=toolchains, outputs=outputs)

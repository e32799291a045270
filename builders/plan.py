"""Turn a target into steps, each with a content key.

A step is (recipe, toolchain) on a target. Its key hashes the recipe's files,
the target definition, the executor's toolchain identity, the sha256 of every
source it unpacks and the keys of the steps it depends on: change any of
them and the step (and everything downstream) gets a new key; change nothing
and every key, hence every cache hit, stays the same.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .errors import ConfigError
from .recipes import Recipe, Target, load_recipe, load_target


@dataclass(frozen=True)
class Step:
    id: str                     # "<recipe>@<toolchain>"
    recipe: Recipe
    toolchain: str
    deps: tuple[str, ...]       # step ids
    target: Target | None = None    # a farm tool's own target (recipe `target`); None: the build's

    def of(self, build_target: Target) -> Target:
        """The target this step is built as (its toolchains, definition and builder identity)."""
        return self.target or build_target

    @property
    def label(self) -> str:
        return self.id

    @property
    def platform(self) -> str:
        """The OS whose builder runs this step (the target's, or the recipe's runs_on)."""
        return self.recipe.os


def steps_for(target: Target, outputs: list[str] | None = None,
              extra_deps: dict[str, tuple[str, ...]] | None = None) -> list[Step]:
    """All steps needed for the target's outputs (or the named ones), dependencies first.

    extra_deps: {recipe: dep specs} added to what that recipe's recipe.toml names, for inputs
    that depend on the app (its extra_binaries become deps of its freeze step)."""
    extra_deps = extra_deps or {}
    wanted = outputs or list(target.outputs)
    order: list[Step] = []
    seen: dict[str, Step] = {}

    def visit(recipe_name: str, toolchain: str, trail: tuple[str, ...], owner: Target | None = None) -> str:
        here = owner or target
        sid = f"{recipe_name}@{toolchain}"
        if sid in trail:
            raise ConfigError(f"dependency cycle: {' -> '.join(trail + (sid,))}")
        if sid not in seen:
            recipe = load_recipe(recipe_name, here.recipes_root, here.os)
            deps = []
            for spec in recipe.deps + tuple(extra_deps.get(recipe_name, ())):
                dep, dep_toolchain, dep_owner = _dep(spec, toolchain, owner, here)
                deps.append(visit(dep, dep_toolchain, trail + (sid,), dep_owner))
            deps = tuple(deps)
            seen[sid] = Step(sid, recipe, toolchain, deps, owner)
            order.append(seen[sid])
        return sid

    for name in wanted:
        if name not in target.outputs:
            raise ConfigError(f"target {target.name} has no output '{name}'; it builds: {', '.join(target.outputs)}")
        visit(name, target.outputs[name], ())
    return order


def _dep(spec: str, toolchain: str, owner: Target | None, here: Target) -> tuple[str, str, Target | None]:
    """(recipe, toolchain, owning target) of a dep. "tor@musl" names its toolchain; a farm tool
    named "linux-tools:rcodesign" is built as a step of that target (its toolchain, definition
    and builder identity), so every target that uses it shares one build and one cache entry."""
    tool_target, _, spec = spec.rpartition(":")
    name, _, pinned = spec.partition("@")
    if not tool_target:
        return name, pinned or toolchain, owner
    tools = load_target(tool_target, here.path.parent)
    if name not in tools.outputs:
        raise ConfigError(f"dep {tool_target}:{name}: {tools.path} has no [outputs].{name}")
    return name, tools.outputs[name], tools


def step_keys(steps: list[Step], target: Target, identity, source_hashes: dict[str, str],
              tree_hashes: dict[str, str] | None = None) -> dict[str, str]:
    """{step id: key}. identity: the toolchain identity; or one per platform when the steps span
    several builders (a Linux step of a macOS target is keyed by the Linux builder's toolchain);
    or a function of the step (a farm tool is keyed by its builder's identity for its own target)."""
    tree_hashes = tree_hashes or {}
    if callable(identity):
        ident = identity
    elif isinstance(identity, dict):
        ident = lambda step: identity[step.platform]  # noqa: E731
    else:
        ident = lambda step: identity  # noqa: E731
    keys: dict[str, str] = {}
    for step in steps:  # dependencies come first
        missing = [i for i in step.recipe.inputs if i not in tree_hashes]
        if missing:
            raise ConfigError(f"step {step.id} needs input folder(s) {', '.join(missing)}, which were not given")
        doc = {
            "recipe": step.recipe.name,
            "recipe_files": step.recipe.digest(),
            "toolchain": step.toolchain,
            "target": step.of(target).digest(),
            "identity": ident(step),
            "sources": {s: source_hashes[s] for s in step.recipe.sources},
            "deps": {d: keys[d] for d in step.deps},
            "inputs": {i: tree_hashes[i] for i in step.recipe.inputs},
            "network": step.recipe.network,
        }
        keys[step.id] = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    return keys

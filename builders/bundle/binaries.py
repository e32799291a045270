"""Third-party programs for `extra_binaries`: which recipe builds each, and building them alone.

    binary_steps(target)            {"gpg": "gnupg@musl", ...} from toolchains/bundles/<target>.toml
    freeze_deps(manifest, target)   {"freeze": ("gnupg@musl",)}: what the app's freeze step adds
    binaries_target(target, names)  the target making just those programs (`ci/farm binaries`)

The runtime knows the names (apaf.binaries.PROGRAMS, checked by the manifest); the farm
knows the recipes. A name the runtime accepts but this target cannot build is a
ConfigError before any step runs.
"""
from __future__ import annotations

import dataclasses
import tomllib

from ..errors import ConfigError
from ..recipes import Target, load_target
from .. import paths

BUNDLES = paths.TOOLCHAINS / "bundles"


def binary_steps(target: str) -> dict[str, str]:
    spec = BUNDLES / f"{target}.toml"
    if not spec.is_file():
        return {}
    return dict(tomllib.loads(spec.read_text()).get("binaries", {}))


def _steps_of(target: str, names) -> list[str]:
    known = binary_steps(target)
    missing = [n for n in names if n not in known]
    if missing:
        raise ConfigError(f"extra_binaries: {', '.join(missing)} cannot be built for {target} yet "
                          f"(no entry in {BUNDLES / (target + '.toml')} [binaries]); it builds: "
                          f"{', '.join(sorted(known)) or 'none'}")
    return [known[n] for n in names]


def freeze_deps(manifest, target: str) -> dict[str, tuple[str, ...]]:
    """Extra dependencies of the freeze step: the recipes of the app's extra_binaries, in order."""
    if not manifest.extra_binaries:
        return {}
    return {"freeze": tuple(dict.fromkeys(_steps_of(target, manifest.extra_binaries)))}


def binaries_target(target: str, names: list[str] | None = None) -> Target:
    """target with outputs = the recipes building `names` (default: all it knows); same keys as in a bundle."""
    base = load_target(target)
    steps = _steps_of(target, names or sorted(binary_steps(target)))
    outputs = {}
    for spec in steps:
        recipe, _, toolchain = spec.partition("@")
        if toolchain not in base.toolchains:
            raise ConfigError(f"[binaries] {spec}: {base.path} defines no toolchain '{toolchain}'")
        outputs[recipe] = toolchain
    return dataclasses.replace(base, outputs=outputs)

"""The step cache with the real local executor on small recipes: what reruns and what does not."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders import paths
from builders.build import Build
from builders.errors import StepFailed
from builders.executors import get as get_executor
from builders.progress import PlainProgress
from builders.recipes import load_target
from builders.sources import SourceStore

# d -> b -> a, and c alone: touching b must rebuild b and d, nothing else.
RECIPES = {"a": [], "b": ["a"], "c": [], "d": ["b"]}


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "toolchains"
    (root / "targets").mkdir(parents=True)
    (root / "recipes").mkdir()
    shutil.copy(paths.RECIPES / "common.sh", root / "recipes" / "common.sh")
    for name, deps in RECIPES.items():
        d = root / "recipes" / name
        d.mkdir()
        (d / "recipe.toml").write_text(f"sources = []\ndeps = {deps!r}\n".replace("'", '"'))
        script = [". ./common.sh", f"echo building {name}", f"echo {name} > \"$OUT/{name}.txt\""]
        script += [f"cat \"$DEPS/{dep}/{dep}.txt\" >> \"$OUT/{name}.txt\"" for dep in deps]
        (d / "build.sh").write_text("\n".join(script) + "\n")
    (root / "targets" / "t.toml").write_text(
        'name = "t"\nsource_date_epoch = 1\npackages = []\n[toolchains.x]\nCC = "gcc"\n'
        '[outputs]\nd = "x"\nc = "x"\n')
    return root


def _build(tree: Path, cache: Path):
    target = load_target("t", tree / "targets")
    store = SourceStore(cache, manifest={})
    return Build(target, get_executor("local"), cache_root=cache, progress=PlainProgress(), store=store).run()


def test_no_change_runs_no_step(tree, tmp_path):
    cache = tmp_path / "cache"
    first = _build(tree, cache)
    assert sorted(first.built) == ["a@x", "b@x", "c@x", "d@x"]
    second = _build(tree, cache)
    assert second.built == []
    assert (Path(second.outputs["d"]) / "d.txt").read_text() == "d\nb\na\n"


def test_touching_a_recipe_reruns_it_and_its_dependants_only(tree, tmp_path):
    cache = tmp_path / "cache"
    _build(tree, cache)
    with open(tree / "recipes" / "b" / "build.sh", "a") as f:
        f.write("# touched\n")
    again = _build(tree, cache)
    assert sorted(again.built) == ["b@x", "d@x"]


def test_failed_step_leaves_nothing_that_looks_finished(tree, tmp_path):
    cache = tmp_path / "cache"
    (tree / "recipes" / "b" / "build.sh").write_text(
        ". ./common.sh\necho half > \"$OUT/b.txt\"\necho 'compiler exploded' >&2\nexit 3\n")
    with pytest.raises(StepFailed) as err:
        _build(tree, cache)
    assert "b@x" in str(err.value) and "compiler exploded" in str(err.value)
    assert Path(err.value.log_path).is_file()
    steps = cache / "steps"
    finished = {p.name for p in steps.iterdir() if (p / "meta.json").exists()}
    metas = [(steps / k / "meta.json").read_text() for k in finished]
    assert not any('"b@x"' in m or '"d@x"' in m for m in metas)
    assert not [p for p in steps.iterdir() if p.name.startswith(".tmp-")]


def test_steps_have_no_network(tree, tmp_path):
    (tree / "recipes" / "c" / "build.sh").write_text(
        ". ./common.sh\nip -o link 2>/dev/null | grep -v ' lo:' && exit 9 || true\n"
        "cat /proc/net/dev | tail -n +3 | grep -v 'lo:' && exit 9 || true\n"
        "echo isolated > \"$OUT/c.txt\"\n")
    summary = _build(tree, tmp_path / "cache")
    assert (Path(summary.outputs["c"]) / "c.txt").read_text() == "isolated\n"


def test_cache_info_and_prune_from_the_command_line(tree, tmp_path):
    """What a release engineer sees: `cache.info --json` lists the steps, `cache.prune --all` empties it."""
    import json
    import os
    import subprocess
    import sys

    cache = tmp_path / "cache"
    _build(tree, cache)
    (cache / "steps" / ".tmp-deadbeef-leftover").mkdir()   # as a killed build leaves it
    invoke = Path(sys.executable).parent / "invoke"
    env = {**os.environ, "APAF_CACHE": str(cache)}
    info = subprocess.run([str(invoke), "cache.info", "--json"], cwd=paths.REPO, env=env,
                          capture_output=True, text=True, check=True)
    data = json.loads(info.stdout)
    assert sorted(s["step"] for s in data["steps"]) == ["a@x", "b@x", "c@x", "d@x"]
    assert data["stale_temp_dirs"] == 1
    assert all(Path(s["log"]).read_text().startswith("+ unshare") for s in data["steps"])
    pruned = subprocess.run([str(invoke), "cache.prune", "--all"], cwd=paths.REPO, env=env,
                            capture_output=True, text=True, check=True)
    assert "removed 5 entries" in pruned.stdout
    assert sorted(_build(tree, cache).built) == ["a@x", "b@x", "c@x", "d@x"]


def test_an_input_folder_edited_while_its_step_runs_is_not_cached(tree, tmp_path):
    """A developer saves a file of the app while `build` runs: the step's key was made from
    the folder as it was, the step read it later. Seen for real: a freeze cached under the
    clean tree's key held README edits made during the build, and a later build of the clean
    tree got them. The edit is made right after the real step's script (the earliest moment
    the old code could not notice); the executor is the real local one."""
    from builders.errors import InputsChanged

    app = tmp_path / "app"
    app.mkdir()
    (app / "page.txt").write_text("old\n")
    recipe = tree / "recipes" / "c"
    (recipe / "recipe.toml").write_text('sources = []\ndeps = []\ninputs = ["app"]\n')
    (recipe / "build.sh").write_text('. ./common.sh\ncat "$INPUTS/app/page.txt" > "$OUT/c.txt"\n')
    local = get_executor("local")

    class EditedDuringTheStep(type(local)):
        def run(self, job, emit):
            result = super().run(job, emit)
            (app / "page.txt").write_text("new\n")
            return result

    target, cache = load_target("t", tree / "targets"), tmp_path / "cache"

    def build(executor):
        return Build(target, executor, cache_root=cache, progress=PlainProgress(),
                     store=SourceStore(cache, manifest={}), inputs={"app": app}).run()

    with pytest.raises(InputsChanged) as err:
        build(EditedDuringTheStep())
    assert str(app) in str(err.value) and "c@x" in str(err.value) and "again" in str(err.value)
    again = build(local)  # the edit is saved now: built from it, not taken from the cache
    assert "c@x" in again.built
    assert (Path(again.outputs["c"]) / "c.txt").read_text() == "new\n"

"""Run a target's steps through the cache and an executor, in parallel where possible.

`Build(target, executor).run()` fetches and verifies every source first (the
only network access), computes step keys, then runs each step whose key is
not cached as soon as its dependencies are done, up to `parallel` at once.
Steps pinned to another OS than the target's (`runs_on`) go to the matching
executor of `others` (see placement.py).
A failed step keeps its log under `<cache>/logs/` and stops new steps from
starting; steps already running finish (and are cached).
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import paths
from .cache import StepCache
from .errors import FarmError, InputsChanged, StepFailed
from .executors.base import Job
from .placement import Placement
from .plan import Step, step_keys, steps_for
from .progress import PlainProgress
from .recipes import Target
from .sources import SourceStore
from .trees import tree_digest


@dataclass
class StepResult:
    id: str
    key: str
    status: str                 # cached | built | failed | skipped
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    out: str = ""
    log: str = ""
    executor: str = ""


@dataclass
class Summary:
    target: str
    executor: str
    wall_seconds: float
    cpu_seconds: float
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def built(self) -> list[str]:
        return [s.id for s in self.steps if s.status == "built"]


class Build:
    def __init__(self, target: Target, executor, *, cache_root: Path | None = None,
                 outputs: list[str] | None = None, parallel: int | None = None,
                 progress=None, store: SourceStore | None = None,
                 inputs: dict[str, Path] | None = None, network_env: dict[str, str] | None = None,
                 others=(), extra_deps: dict[str, tuple[str, ...]] | None = None):
        self.target = target
        self.executor = executor
        self.placement = Placement(executor, others)
        self.root = cache_root or paths.cache_root()
        self.cache = StepCache(self.root)
        self.progress = progress or PlainProgress()
        self.store = store or SourceStore(self.root, log=self.progress.note)
        self.steps = steps_for(target, outputs, extra_deps)
        self.parallel = parallel or os.cpu_count() or 1
        self.wanted = outputs or list(target.outputs)
        self.inputs = {k: Path(v).resolve() for k, v in (inputs or {}).items()}
        # Given only to network steps and kept out of step keys: where pinned downloads come
        # from (index URL, proxy, CA file) does not change what they are.
        self.network_env = dict(network_env or {})

    def plan(self) -> tuple[dict[str, str], dict[str, Path]]:
        """(step keys, source paths): fetches and verifies every source the steps need."""
        names = sorted({s for step in self.steps for s in step.recipe.sources})
        fetched = {n: self.store.fetch(n) for n in names}
        self.placement.used(self.steps)        # every step has a builder, or a clear error now
        seen: dict[tuple[int, str], str] = {}

        def identity(step: Step) -> str:
            executor, tgt = self.placement.for_step(step), step.of(self.target)
            if (id(executor), tgt.name) not in seen:
                seen[id(executor), tgt.name] = executor.identity(tgt)
            return seen[id(executor), tgt.name]

        trees = self._trees = {name: tree_digest(path) for name, path in self.inputs.items()}
        keys = step_keys(self.steps, self.target, identity, {n: f.sha256 for n, f in fetched.items()}, trees)
        return keys, {n: f.path for n, f in fetched.items()}

    def _job(self, step: Step, tmp: Path, sources: dict[str, Path], done: dict[str, Path]) -> Job:
        env = dict(step.of(self.target).toolchains[step.toolchain])
        for name in step.recipe.sources:
            src = self.store.manifest[name]
            env[f"{src.env_prefix}_VERSION"] = src.version
            env[f"{src.env_prefix}_TARBALL"] = sources[name].name
        if step.recipe.network:
            env.update(self.network_env)
        return Job(step_id=step.id, recipe_files=step.recipe.files(),
                   sources=[sources[n] for n in step.recipe.sources],
                   deps={dep.split("@")[0]: done[dep] for dep in step.deps},
                   out_dir=tmp / "out", work_dir=tmp / "work", env=env,
                   trees={i: self.inputs[i] for i in step.recipe.inputs}, network=step.recipe.network)

    def _run_step(self, step: Step, key: str, sources, done) -> StepResult:
        tmp = self.cache.begin(key)
        log_path = tmp / "log"
        started = time.monotonic()
        self.progress.step_state(step.id, "building")
        executor = self.placement.for_step(step)
        with open(log_path, "w", buffering=1) as log:
            def emit(line: str) -> None:
                log.write(line + "\n")
                self.progress.step_line(step.id, line)
            try:
                result = executor.run(self._job(step, tmp, sources, done), emit)
            except BaseException as exc:
                kept = self._keep_log(step, key, log_path)
                self.cache.abandon(tmp)
                if isinstance(exc, StepFailed):
                    exc.log_path = kept
                    exc.message = f"{exc.message}\n  full log: {kept}\n  last lines:\n    " + \
                        "\n    ".join(_tail(kept, 15))
                raise
        changed = [n for n in step.recipe.inputs if tree_digest(self.inputs[n]) != self._trees[n]]
        if changed:
            # The key was made from the folders as they were at the start; the step read them
            # later (a live read-only mount), so its output may hold files no key describes.
            self.cache.abandon(tmp)
            raise InputsChanged(
                f"{', '.join(str(self.inputs[n]) for n in changed)} changed while {step.id} ran: its "
                f"output may mix old and new files, so it was not cached. Nothing cached is lost; "
                f"run the build again once the edits are saved.")
        seconds = time.monotonic() - started
        entry = self.cache.commit(key, tmp, {"step": step.id, "target": self.target.name,
                                             "executor": executor.name, "seconds": round(seconds, 2),
                                             "cpu_seconds": round(result.cpu_seconds, 2)})
        self.progress.step_state(step.id, "built", f"{seconds:.0f}s")
        return StepResult(step.id, key, "built", seconds, result.cpu_seconds, str(entry.out), str(entry.log),
                          executor.name)

    @contextmanager
    def _cancelled_on_ctrl_c(self):
        """Ctrl-C anywhere in the block stops the running steps: the pool's exit after it waits for them.

        Not only in the wait for a step: the main thread also marks steps and starts new ones
        while others run, and a Ctrl-C landing there used to wait for every running step to end."""
        try:
            yield
        except KeyboardInterrupt:
            self._cancel()
            raise

    def _cancel(self) -> None:
        for executor in self.placement.all():
            if hasattr(executor, "cancel"):
                executor.cancel()

    def _keep_log(self, step: Step, key: str, log_path: Path) -> Path:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        kept = logs / f"{step.id}-{key[:12]}-{time.strftime('%Y%m%dT%H%M%S')}.log"
        if log_path.exists():
            shutil.copyfile(log_path, kept)
        return kept

    def run(self) -> Summary:
        t0 = time.monotonic()
        # Each builder is checked for what it will build: a farm tool's step (linux-tools:rcodesign)
        # needs its own target's packages (cargo), not the build target's.
        checks = {}
        for step in self.steps:
            executor, tgt = self.placement.for_step(step), step.of(self.target)
            checks[id(executor), tgt.name] = (executor, tgt)
        for executor, tgt in checks.values():
            executor.check(tgt)
        keys, sources = self.plan()
        results: dict[str, StepResult] = {}
        done: dict[str, Path] = {}
        pending = list(self.steps)
        running: dict[Future, Step] = {}
        failure: BaseException | None = None
        self.progress.start(self.steps)
        try:
            with ThreadPoolExecutor(max_workers=self.parallel) as pool, self._cancelled_on_ctrl_c():
                while pending or running:
                    for step in list(pending):
                        if failure is not None:
                            break
                        if not all(d in done for d in step.deps):
                            continue
                        pending.remove(step)
                        hit = self.cache.lookup(keys[step.id])
                        if hit:
                            done[step.id] = hit.out
                            results[step.id] = StepResult(step.id, keys[step.id], "cached",
                                                          out=str(hit.out), log=str(hit.log))
                            self.progress.step_state(step.id, "cached")
                            continue
                        if len(running) >= self.parallel:
                            pending.insert(0, step)
                            break
                        running[pool.submit(self._run_step, step, keys[step.id], sources, done)] = step
                    if failure is not None and not running:
                        break
                    if not running:
                        if pending and failure is None and not any(
                                all(d in done for d in s.deps) for s in pending):
                            raise FarmError("internal: no runnable step left")  # unreachable with a DAG
                        continue
                    finished = wait(list(running), return_when=FIRST_COMPLETED)[0]
                    for fut in finished:
                        step = running.pop(fut)
                        # exception(), not result() in a broad except: that would take a Ctrl-C
                        # landing meanwhile for this step's failure, and let the others run on.
                        exc = fut.exception()
                        if exc is not None:     # reported after the others finish
                            failure = failure or exc
                            results[step.id] = StepResult(step.id, keys[step.id], "failed")
                            self.progress.step_state(step.id, "failed")
                            continue
                        results[step.id] = res = fut.result()
                        done[step.id] = Path(res.out)
        except KeyboardInterrupt:
            self._cancel()
            raise
        finally:
            self.progress.stop()
        if failure is not None:
            raise failure
        summary = Summary(self.target.name, self.executor.name, round(time.monotonic() - t0, 2),
                          round(sum(r.cpu_seconds for r in results.values()), 2))
        summary.steps = [results[s.id] for s in self.steps]
        for name in self.wanted:
            sid = f"{name}@{self.target.outputs[name]}"
            summary.outputs[name] = results[sid].out
        return summary


def _tail(path: Path, n: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []

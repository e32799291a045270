"""The CI workflows (ci/workflows/, copied to .github/workflows/): lint-clean, hardened, and
calling only farm tasks that exist, with options those tasks have.

actionlint and zizmor come from ci/requirements.txt (hashed pins) and run on every workflow
file; any line either prints fails the test with that output.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from invoke.parser import ParseError, Parser

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "ci" / "workflows"
GITHUB = REPO / ".github" / "workflows"
WORKFLOWS = sorted(SOURCES.glob("*.yml"))
BIN = Path(sys.executable).parent

# run: steps that call no farm task, and why each cannot. Every other run: step must consist of
# `ci/farm TASK ...` (or `invoke TASK ...`) commands only, so CI does what a developer does.
PLUMBING = {
    ("farm.yml", "linux", "git, for the checkout (the farm records the commit it built)"):
        "debian:bookworm has no git, and the farm is in the checkout that needs it",
    ("farm.yml", "test", "git, for the checkout (tests clone the repository)"):
        "debian:bookworm has no git, and the farm is in the checkout that needs it",
    ("farm.yml", "macos", "build root, owned by the runner's user"):
        "the fixed build root a Mac builder needs is made once by its owner (builders/README.md)",
    ("farm.yml", "macos", "the .app into the artifact"):
        "the unsigned .app lives in the farm's cache; its path comes from build --json",
    ("farm.yml", "windows", "the farm's hashed pins and the runtime (what ci/farm does on Linux)"):
        "ci/farm is a POSIX shell script and there is no Windows target yet (issue 10)",
    ("farm.yml", "windows", "runtime unit tests"):
        "`invoke test` quotes for a POSIX shell and needs Docker; pytest is what it calls",
    ("release.yml", "build", "git, for the checkout (the farm records the commit it built)"):
        "debian:bookworm has no git, and the farm is in the checkout that needs it",
    ("release.yml", "agree", "compare SHA256SUMS (any difference stops the release)"):
        "two runners' outputs meet only in a third job, with no farm and no checkout",
    ("release.yml", "sign", "git, for the checkout (the release report records the commit)"):
        "debian:bookworm has no git, and the farm is in the checkout that needs it",
    ("release.yml", "sign", "release key into a private GnuPG home"):
        "the key comes from a CI secret; the farm takes a GnuPG home (--gnupghome)",
    ("release.yml", "sign", "every sum the runners agreed on is signed"):
        "compares this job's release with the agree job's input, after the farm is done",
}

CONTROL = {"&&", "||", ";", "|", "&"}
REDIRECT = {">", ">>", "<", "2>", "2>&1"}


def _lint(tool: str, *args: str) -> subprocess.CompletedProcess:
    exe = BIN / tool
    assert exe.is_file(), f"{exe} is missing: run `ci/farm --version` to install ci/requirements.txt"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    # -shellcheck= and -pyflakes= off: only actionlint itself, the same on every machine
    return _lint("actionlint", "-no-color", "-shellcheck=", "-pyflakes=", str(path))


def _zizmor(path: Path) -> subprocess.CompletedProcess:
    # --offline: GitHub is not reachable from the farm, and the result must not depend on it
    return _lint("zizmor", "--offline", "--no-progress", "--color=never", str(path))


def _steps():
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        for job_id, job in doc["jobs"].items():
            for step in job.get("steps", []):
                if "run" in step:
                    yield path.name, job_id, step


def _commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script: words, without control operators and redirections."""
    commands = []
    script = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", script.replace("\\\n", " "))  # one word, as GitHub expands it
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words, skip = [], False
        for token in lexer:
            if skip:
                skip = False
            elif token in CONTROL:
                commands.append(words)
                words = []
            elif token in REDIRECT:
                skip = True
            else:
                words.append(token)
        commands.append(words)
    return [c for c in commands if c]


def _farm_argv(words: list[str]) -> list[str] | None:
    if words[0] in ("ci/farm", "invoke"):
        return words[1:]
    if words[:3] in (["python", "-m", "invoke"], ["python3", "-m", "invoke"]):
        return words[3:]
    return None


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_reports_nothing(path):
    result = _actionlint(path)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_zizmor_reports_nothing(path):
    result = _zizmor(path)
    assert result.returncode == 0 and "No findings to report" in result.stdout, result.stdout + result.stderr


def test_both_linters_catch_the_mistakes_the_old_workflow_had(tmp_path):
    """A tag-pinned, node20 checkout with persisted credentials and no permissions or timeout."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v4\n      - run: ci/farm test\n")
    lint = _actionlint(bad)
    assert lint.returncode == 1 and 'runtime "node20" is deprecated' in lint.stdout, lint.stdout + lint.stderr
    audit = _zizmor(bad)
    assert audit.returncode != 0, audit.stdout + audit.stderr
    for finding in ("unpinned-uses", "artipacked", "excessive-permissions"):
        assert finding in audit.stdout, audit.stdout


def test_github_reads_byte_copies_of_the_sources():
    """GitHub reads only .github/workflows/ and does not follow symlinks there."""
    assert WORKFLOWS, f"no workflow in {SOURCES}"
    assert sorted(p.name for p in GITHUB.glob("*.y*ml")) == [p.name for p in WORKFLOWS], \
        "run: rm -f .github/workflows/*.yml && cp ci/workflows/*.yml .github/workflows/"
    for path in WORKFLOWS:
        assert (GITHUB / path.name).read_bytes() == path.read_bytes(), \
            f".github/workflows/{path.name} differs from ci/workflows/{path.name}: " \
            "edit the ci/ one, then cp ci/workflows/*.yml .github/workflows/"


def test_every_run_step_calls_existing_farm_tasks_with_their_options():
    import tasks

    parser = Parser(contexts=tasks.ns.to_contexts())
    seen_plumbing, problems, called = set(), [], set()
    for workflow, job, step in _steps():
        where = (workflow, job, step.get("name", ""))
        commands = _commands(step["run"])
        if where in PLUMBING:
            seen_plumbing.add(where)
            assert not any(_farm_argv(c) for c in commands), f"{where} calls the farm: take it off PLUMBING"
            continue
        for words in commands:
            argv = _farm_argv(words)
            if argv is None:
                problems.append(f"{where}: `{shlex.join(words)}` is no farm task (or list the step in PLUMBING)")
                continue
            try:
                parsed = parser.parse_argv(argv)
            except ParseError as e:
                problems.append(f"{where}: `{shlex.join(words)}`: {e}")
                continue
            called.update(ctx.name for ctx in parsed)
    assert not problems, "\n".join(problems)
    assert seen_plumbing == set(PLUMBING), f"PLUMBING names steps no workflow has: {set(PLUMBING) - seen_plumbing}"
    # the README's two commands, and the release
    assert {"build", "test", "release", "toolchain"} <= called, called


def test_every_job_is_hardened_and_every_action_pinned_by_commit_with_its_tag():
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        assert doc.get("permissions") == {}, f"{path.name}: top-level `permissions: {{}}`, jobs ask for their own"
        for job_id, job in doc["jobs"].items():
            assert "permissions" in job, f"{path.name} job {job_id}: no permissions"
            assert "timeout-minutes" in job, f"{path.name} job {job_id}: no timeout-minutes"
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, \
                        f"{path.name} job {job_id}: checkout without persist-credentials: false"
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"\s*(- )?uses:", line):
                assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+(\.\d+)*$", line), \
                    f"{path.name}:{n}: pin by full commit SHA with the tag in a comment: {line.strip()}"

"""Tasks that run the test suite and the benchmarks."""
import os
import shlex
import sys

from invoke import Exit, task


@task(
    help={
        "k": "only tests whose name matches this pytest -k expression",
        "path": "test folder or file to run (default: tests/, all of it)",
        "junit": "write a JUnit XML report to this file",
    }
)
def test(c, k="", path="tests", junit=""):
    """Run the whole test suite: unit, integration (real tor, docker, sshd, chromium), e2e."""
    args = [sys.executable, "-m", "pytest", path, "-ra"]
    if k:
        args += ["-k", k]
    if junit:
        args += ["--junitxml", junit]
    result = c.run(shlex.join(args), pty=False, warn=True, env={"PYTHONUNBUFFERED": "1"})
    if result.exited:
        raise Exit(f"tests failed (pytest exit {result.exited})", code=result.exited)


@task(help={"only": "run only benchmarks whose file name contains this"})
def bench(c, only=""):
    """Run the benchmarks in tests/bench/ and print their figures (no pass/fail)."""
    bench_dir = os.path.join("tests", "bench")
    for name in sorted(os.listdir(bench_dir)):
        if name.startswith("bench_") and name.endswith(".py") and only in name:
            c.run(f"{sys.executable} {os.path.join(bench_dir, name)}", pty=False)

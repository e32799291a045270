"""Tasks that run the test suite and the benchmarks."""
import os
import shlex
import shutil
import subprocess
import sys
import time

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
    _ensure_docker_engine()
    args = [sys.executable, "-m", "pytest", path, "-ra"]
    if k:
        args += ["-k", k]
    if junit:
        args += ["--junitxml", junit]
    result = c.run(shlex.join(args), pty=False, warn=True, env={"PYTHONUNBUFFERED": "1"})
    if result.exited:
        raise Exit(f"tests failed (pytest exit {result.exited})", code=result.exited)


@task(help={"only": "run only benchmarks whose file name contains this",
            "runs": "runs per measured case, for benchmarks that take it (e.g. runtime; default theirs)"})
def bench(c, only="", runs=0):
    """Run the benchmarks in tests/bench/ and print their figures (no pass/fail)."""
    bench_dir = os.path.join("tests", "bench")
    env = {"APAF_BENCH_RUNS": str(runs)} if runs else {}
    for name in sorted(os.listdir(bench_dir)):
        if name.startswith("bench_") and name.endswith(".py") and only in name:
            c.run(f"{sys.executable} {os.path.join(bench_dir, name)}", pty=False, env=env)


def _engine_answers() -> bool:
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _ensure_docker_engine(wait: float = 60.0) -> None:
    """The suite needs a Docker engine: use the running one, or start Debian's dockerd on a machine
    with no init system running it (a fresh container or CI host), or stop with the fix."""
    if not shutil.which("docker"):
        raise Exit("the tests need Docker: `docker` is not installed; run `ci/farm` (it installs docker.io)", code=3)
    if os.environ.get("DOCKER_HOST") or _engine_answers():
        return
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        raise Exit("the Docker engine is not running: start it (`sudo service docker start`, or `sudo dockerd &`) "
                   "and run the tests again", code=3)
    log = os.path.join(os.environ.get("TMPDIR", "/tmp"), "apaf-dockerd.log")
    print(f"+ dockerd (no engine was running; log in {log})", file=sys.stderr)
    with open(log, "ab") as out:
        subprocess.Popen(["dockerd"], stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _engine_answers():
            return
        time.sleep(1)
    raise Exit(f"dockerd did not answer within {wait:.0f}s; see {log}", code=3)

"""Benchmark: bundle sizes and where their bytes go, cold build time, app-only rebuild vs bare
PyInstaller, start -> admin UI ready.

Builds examples/chat, examples/static-site and a minimal hello app (the smallest: one aiohttp
handler) with the farm; for each static binary, a size breakdown (tests/bench/bundle_size.py). The cold build uses an
empty step cache (sources shared with $APAF_CACHE) unless APAF_BENCH_WARM=1; the
app-only rebuild changes one line of the hello app; "bare PyInstaller" is the same
PyInstaller command the freeze step runs, on the same app, in a venv of the same
CPython made beforehand (not timed), with no staticx and no packages. Start -> admin
UI ready runs the static hello bundle on a private Tor network until its admin URL
answers. Aims (issue 5): app-only rebuild <= 1.3 x bare PyInstaller; hello <= 20 MB.
Takes ~15 min cold, ~4 min warm.  Run with `ci/farm bench --only bundle`.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from builders import paths  # noqa: E402
from builders.bundle.app_build import build_app  # noqa: E402
from bundle_size import print_breakdown  # noqa: E402

HELLO_TOML = ('[app]\nname = "hello"\nversion = "1.0.0"\nentry = "hello_app:main"\ntitle = "Hello"\n'
              'maintainer = "APAF bench <bench@example.org>"\nlicense = "MIT"\n')
HELLO_PY = ('from aiohttp import web\n\n\ndef main():\n    app = web.Application()\n'
            '    app.router.add_get("/", lambda r: web.Response(text="hello"))\n    return app\n')


def hello_app(root: Path) -> Path:
    d = root / "hello"
    d.mkdir()
    (d / "apaf.toml").write_text(HELLO_TOML)
    (d / "hello_app.py").write_text(HELLO_PY)
    return d


def fresh_cache(tmp: Path) -> Path:
    cache = tmp / "cache"
    src = paths.cache_root() / "sources"
    if src.is_dir():
        shutil.copytree(src, cache / "sources", copy_function=os.link, ignore=shutil.ignore_patterns(".apt", ".fetch-*"))
    return cache


def bare_pyinstaller(summary, app: Path, tmp: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of the freeze step's PyInstaller command alone, run on this machine."""
    out = {s.id.split("@")[0]: Path(s.out) for s in summary.steps}
    venv = tmp / "bare-venv"
    subprocess.run([str(out["cpython"] / "bin" / "python3.13"), "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    wheels = sorted(str(p) for p in (out["wheels"]).glob("*/*.whl"))
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--no-deps", *wheels], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-build-isolation",
                    str(shutil.copytree(REPO / "runtime", tmp / "runtime"))], check=True)
    started, cpu = time.monotonic(), _children_cpu()
    subprocess.run([py, "-m", "PyInstaller", "--onefile", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--name", "hello", "--distpath", str(tmp / "bare-dist"), "--workpath", str(tmp / "bare-work"),
                    "--specpath", str(tmp / "bare-spec"), "--paths", str(app), "--hidden-import", "hello_app",
                    "--collect-submodules", "apaf", "--collect-data", "apaf", "--collect-submodules", "stem",
                    "--add-data", f"{app}:apps/hello", "--add-binary", f"{out['tor'] / 'bin' / 'tor'}:.",
                    str(paths.RECIPES / "freeze" / "bundle_main.py")],
                   check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return time.monotonic() - started, _children_cpu() - cpu


def breakdown(label: str, result) -> None:
    out = {s.id.split("@")[0]: Path(s.out) for s in result.summary.steps}
    onefile = next(p for p in out["freeze"].iterdir() if p.is_file())
    print_breakdown(label, result.files["static"], onefile, sorted((out["wheels"] / "tools").glob("*.whl")))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_to_admin(exe: Path, tmp: Path) -> float:
    from apaf.testnet import TestNetwork
    net = TestNetwork(tmp / "net", authorities=3, relays=3)
    net.start(timeout=180)
    try:
        env = {**os.environ, "APAF_TESTNET_DIR": str(net.workdir), "PYTHONUNBUFFERED": "1"}
        started = time.monotonic()
        proc = subprocess.Popen([str(exe), "--testnet", "--data-dir", str(tmp / "data")], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            for line in proc.stdout:
                if line.startswith("admin: "):
                    # The secret *.localhost name browsers resolve themselves; glibc may not.
                    name_port = line.split(" ", 1)[1].strip().split("/")[2]
                    port = name_port.rsplit(":", 1)[1]
                    url = urllib.request.Request(f"http://127.0.0.1:{port}/login",
                                                 headers={"Host": name_port})
                    while True:
                        try:
                            with urllib.request.urlopen(url, timeout=5) as r:
                                if r.status == 200:
                                    return time.monotonic() - started
                        except OSError:
                            time.sleep(0.05)
            raise SystemExit("the bundle exited before printing its admin URL")
        finally:
            proc.terminate()
            proc.wait(30)
    finally:
        net.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as t:
        tmp = Path(t)
        cache = paths.cache_root() if os.environ.get("APAF_BENCH_WARM") else fresh_cache(tmp)
        started = time.monotonic()
        chat = build_app(REPO / "examples" / "chat", dist=tmp / "dist", cache_root=cache)
        cold = time.monotonic() - started
        print(f"chat build ({'warm cache' if os.environ.get('APAF_BENCH_WARM') else 'cold'}): {cold:.0f} s wall, "
              f"{chat.summary.cpu_seconds:.0f} s CPU, {len(chat.summary.built)} steps built")
        for kind, path in chat.files.items():
            print(f"  chat {kind:6}: {path.stat().st_size / 1e6:6.1f} MB  {path.name}")
        breakdown("chat", chat)
        site = build_app(REPO / "examples" / "static-site", dist=tmp / "dist", cache_root=cache)
        print(f"  static-site static: {site.files['static'].stat().st_size / 1e6:5.1f} MB")
        breakdown("static-site", site)
        app = hello_app(tmp)
        hello = build_app(app, dist=tmp / "dist", cache_root=cache)
        for kind, path in hello.files.items():
            aim = "   (aim: <= 20 MB with tor)" if kind == "static" else ""
            print(f"  hello {kind:6}: {path.stat().st_size / 1e6:5.1f} MB  {path.name}{aim}")
        breakdown("hello", hello)
        with open(app / "hello_app.py", "a") as f:
            f.write(f"# edited {time.time()}\n")   # unique: a cached result would not be a rebuild
        started = time.monotonic()
        again = build_app(app, dist=tmp / "dist", cache_root=cache)
        rebuild = time.monotonic() - started
        steps = {s.id: s.seconds for s in again.summary.steps if s.status == "built"}
        print(f"app-only rebuild: {rebuild:.1f} s wall, {again.summary.cpu_seconds:.1f} s CPU "
              f"({', '.join(f'{k} {v:.0f}s' for k, v in steps.items())})")
        bare, bare_cpu = bare_pyinstaller(again.summary, app, tmp)
        print(f"bare PyInstaller on the same app: {bare:.1f} s wall, {bare_cpu:.1f} s CPU; ratio "
              f"{rebuild / bare:.2f} wall, {again.summary.cpu_seconds / bare_cpu:.2f} CPU (aim <= 1.3)")
        ready = start_to_admin(again.files["static"], tmp)
        print(f"start -> admin UI ready (static hello bundle, private Tor network): {ready:.2f} s")


if __name__ == "__main__":
    main()

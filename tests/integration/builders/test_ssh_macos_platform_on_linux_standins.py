"""The macOS SSH platform's generated shell, run for real over a real sshd, on Linux, with stand-ins.

No Mac here: the host is this Linux machine's OpenSSH on loopback, declared
`os = "macos"` in the inventory, and the Mac-only tools are STAND-INS on the
session's PATH: `sandbox-exec` records its arguments and runs the command
without any sandbox; `sw_vers`, `xcode-select`, `xcrun` print what a Mac
would. Everything else is what a Mac would run: upload over SFTP, perl's
flock on the build root's lock, moving the inputs into the fixed root,
build.sh through `env -i`, moving out/ back, download, cleanup. What this
cannot prove (the profile being enforced, the recipes compiling with
Apple's clang) is left to a real Mac; see builders/README.md, "macOS".
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomlkit

from builders import paths
from builders.build import Build
from builders.executors import get as get_executor
from builders.executors.platforms.macos import sandbox_profile
from builders.recipes import load_target
from fixtures.builders import HookProgress
from fixtures.sshd import start_sshd, stop_sshd

pytestmark = pytest.mark.slow

STANDINS = {
    # Records argv (NUL-separated, one file per call), then runs the command unsandboxed.
    "sandbox-exec": '#!/bin/sh\nf=$(mktemp "{calls}/call.XXXXXX")\nprintf "%s\\0" "$@" > "$f"\n'
                    '[ "$1" = -p ] || exit 64\nshift 2\nexec "$@"\n',
    "sw_vers": "#!/bin/sh\necho 14.6.1\n",
    "xcode-select": "#!/bin/sh\necho /Library/Developer/CommandLineTools\n",
    "xcrun": "#!/bin/sh\necho 14.5\n",
}

# Each step says where it ran and when, so the test can see the root and the lock at work.
STEP = """. ./common.sh
step "in the fixed root"
echo "root=$APAF_ROOT pwd=$(pwd) home=$HOME"
cp "$INPUTS/app/hello.txt" "$OUT/hello.txt"
echo "$APAF_ROOT" > "$OUT/root.txt"
ls "$DEPS" > "$OUT/deps.txt"
date +%s.%N > "$OUT/start"
sleep 4  # long enough that the second step, uploaded meanwhile, finds the root busy
date +%s.%N > "$OUT/end"
"""


def _standin_tools(d: Path) -> tuple[Path, Path, Path]:
    """(bin dir of the STAND-IN Mac tools, folder where they record their calls, an empty build root)."""
    bin_dir, calls, root = d / "standin-bin", d / "calls", d / "buildroot"
    bin_dir.mkdir()
    calls.mkdir()
    root.mkdir(mode=0o700)
    for name, text in STANDINS.items():
        (bin_dir / name).write_text(text.replace("{calls}", str(calls)))
        (bin_dir / name).chmod(0o755)
    return bin_dir, calls, root


@pytest.fixture(scope="module")
def mac_standin(tmp_path_factory):
    d = tmp_path_factory.mktemp("mac-standin")
    bin_dir, calls, root = _standin_tools(d)
    builder, proc = start_sshd(d / "sshd", extra_config=f"SetEnv PATH={bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin\n")
    inv = tomlkit.parse(builder.inventory.read_text())
    inv["builders"]["loopmac"] = inv["builders"].pop("loopback")
    inv["builders"]["loopmac"]["os"] = "macos"
    inv["builders"]["loopmac"]["build_root"] = str(root)
    builder.inventory.write_text(tomlkit.dumps(inv))
    yield builder, calls, root
    stop_sshd(proc)


def _target(tmp: Path):
    """A macOS target of three tiny real recipes: a, b (independent, no network) and c (network, after a)."""
    root = tmp / "toolchains"
    (root / "targets").mkdir(parents=True)
    (root / "recipes").mkdir()
    for f in ("common.sh", "common.macos.sh"):
        (root / "recipes" / f).symlink_to(paths.RECIPES / f)
    for name, extra in (("a", ""), ("b", ""), ("c", 'deps = ["a"]\nnetwork = true\n')):
        d = root / "recipes" / name
        d.mkdir()
        (d / "recipe.toml").write_text(f'inputs = ["app"]\n{extra}')
        (d / "build.macos.sh").write_text(STEP)
    doc = tomlkit.parse((paths.TARGETS / "macos-arm64.toml").read_text())
    doc["outputs"] = {"a": "clang", "b": "clang", "c": "clang"}
    (root / "targets" / "macos-arm64.toml").write_text(tomlkit.dumps(doc))
    return load_target("macos-arm64", root / "targets")


def _calls(calls: Path) -> list[list[str]]:
    return [p.read_bytes().decode().split("\0")[:-1] for p in sorted(calls.iterdir())]


def test_macos_platform_upload_lock_run_download_cleanup_over_real_sshd_with_standin_tools(mac_standin, tmp_path):
    builder, calls, root = mac_standin
    target = _target(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.txt").write_text("hello from the app input\n")
    mac = get_executor("ssh:loopmac", inventory=builder.inventory, source_date_epoch=target.source_date_epoch)
    assert mac.os == "macos"
    progress = HookProgress()
    summary = Build(target, mac, cache_root=tmp_path / "cache", progress=progress, parallel=3,
                    inputs={"app": app}).run()
    assert sorted(summary.built) == ["a@clang", "b@clang", "c@clang"]

    outs = {name: Path(summary.outputs[name]) for name in ("a", "b", "c")}
    for name, out in outs.items():
        # Each step saw the inputs and its deps at the fixed root, and its out/ came back.
        assert (out / "hello.txt").read_text() == "hello from the app input\n"
        assert (out / "root.txt").read_text().strip() == str(root)
    assert (outs["c"] / "deps.txt").read_text().split() == ["a"]
    assert any(f"root={root} pwd={root}/recipe home={root}/build" in line for line in progress.lines)
    assert any("lock " + str(root) + "; sandbox-exec (no network) sh build.sh" in line for line in progress.lines)

    # One step per root at a time: a and b were started side by side, yet ran one after the other.
    spans = sorted((float((o / "start").read_text()), float((o / "end").read_text())) for o in outs.values())
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:])), spans
    assert any("build root busy" in line for line in progress.lines)

    # sandbox-exec got the generated profile: no network for a and b, network for c (the wheels case).
    recorded = _calls(calls)
    assert len(recorded) == 3
    profiles = sorted(call[1] for call in recorded)
    assert all(call[0] == "-p" and call[2:4] == ["/bin/sh", "-c"] for call in recorded)
    assert profiles == sorted([sandbox_profile(str(root), network=False)] * 2 + [sandbox_profile(str(root), network=True)])

    # Nothing left behind: the root is empty, the lock is free, the upload folders are gone.
    assert sorted(os.listdir(root)) == []
    assert sorted(os.listdir(builder.work_dir)) == []
    assert (Path(str(root) + ".lock")).exists()

    # A second run is all cache hits: the Mac's identity (from the stand-ins) is stable.
    again = Build(target, mac, cache_root=tmp_path / "cache", inputs={"app": app}).run()
    assert again.built == [] and len(_calls(calls)) == 3


def test_a_failing_step_fails_and_still_empties_the_root(mac_standin, tmp_path):
    builder, calls, root = mac_standin
    target = _target(tmp_path)
    (target.recipes_root / "b" / "build.macos.sh").write_text(". ./common.sh\necho half > \"$OUT/partial\"\nexit 3\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.txt").write_text("x\n")
    from builders.errors import StepFailed
    mac = get_executor("ssh:loopmac", inventory=builder.inventory, source_date_epoch=target.source_date_epoch)
    with pytest.raises(StepFailed, match="b@clang failed on SSH builder 'loopmac' \\(exit 3\\)"):
        Build(target, mac, cache_root=tmp_path / "cache", outputs=["b"], inputs={"app": app}).run()
    assert sorted(os.listdir(root)) == []
    assert sorted(os.listdir(builder.work_dir)) == []


def test_local_builder_of_a_mac_runs_the_same_script_here_with_standin_tools(tmp_path, monkeypatch):
    """`--builder local` on a Mac (MacLocalExecutor), run on Linux with the same STAND-INS on PATH."""
    from builders.executors.local_macos import MacLocalExecutor

    bin_dir, calls, root = _standin_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("APAF_MACOS_BUILD_ROOT", str(root))
    target = _target(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.txt").write_text("local hello\n")
    mac = MacLocalExecutor(source_date_epoch=target.source_date_epoch)
    summary = Build(target, mac, cache_root=tmp_path / "cache", parallel=2, inputs={"app": app}).run()
    assert sorted(summary.built) == ["a@clang", "b@clang", "c@clang"] and summary.executor == "local"
    outs = [Path(summary.outputs[n]) for n in ("a", "b", "c")]
    assert all((o / "hello.txt").read_text() == "local hello\n" for o in outs)
    assert all((o / "root.txt").read_text().strip() == str(root) for o in outs)
    spans = sorted((float((o / "start").read_text()), float((o / "end").read_text())) for o in outs)
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:])), spans
    assert [c[1] for c in _calls(calls)].count(sandbox_profile(str(root), network=True)) == 1
    assert sorted(os.listdir(root)) == []
    assert mac.identity(target).startswith("local-macos:x86_64:macOS 14.6.1:SDK 14.5:")

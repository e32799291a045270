"""Planning a macOS build on Linux, where no Mac exists: steps, keys, executors, remote commands.

Nothing here runs macOS or a macOS recipe. The Mac's identity comes from the
probe output a Mac would print (a stand-in, `MAC_PROBE`); the SSH builder for
it is made from a real inventory entry with `os = "macos"` but never
connects. What is checked is what the farm decides before it would touch the
Mac: which steps a macOS bundle has and where each runs, that their keys are
stable, differ per target and depend on the right builders' identities, and
the exact shell the macOS platform sends (the build root's lock, the fixed
root, the sandbox-exec profile that denies the network except for wheels).
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
import tomlkit

from builders import paths
from builders.build import Build
from builders.bundle.app_build import bundle_target
from builders.errors import ConfigError
from builders.executors import get as get_executor
from builders.executors.base import Job, job_env
from builders.executors.platforms import get as get_platform
from builders.executors.platforms.macos import DEFAULT_ROOT, sandbox_profile
from builders.placement import Placement
from builders.plan import step_keys, steps_for
from builders.recipes import load_recipe, load_target
from builders.sources.manifest import load_manifest
from builders.spread import assign

# What `PROBE` prints on an Apple-silicon Mac with the command-line tools (a stand-in: no Mac here).
MAC_PROBE = """uid=501
arch=arm64
nproc=8
macos=14.6.1
clt=/Library/Developer/CommandLineTools
sdk=14.5
clang=Apple clang version 15.0.0 (clang-1500.3.9.4)
has=sandbox-exec
has=perl
has=tar
"""
LINUX_IDENTITY = "local:x86_64:"    # the local builder's identity for a target with no Debian packages


@pytest.fixture
def mac_inventory(tmp_path) -> Path:
    (tmp_path / "key").write_text("not used: nothing connects\n")
    inv = tmp_path / "builders.toml"
    inv.write_text('[builders.mac]\nhost = "mac.invalid"\nuser = "apaf"\nkey = "key"\nos = "macos"\n'
                   'targets = ["macos-arm64", "macos-x86_64"]\n')
    return inv


@pytest.fixture
def mac(mac_inventory):
    return get_executor("ssh:mac", inventory=mac_inventory, source_date_epoch=1735689600)


def _mac_identity(executor, probe: str = MAC_PROBE) -> str:
    return executor.platform.identity(executor.platform.parse(probe), None, None)


def _bundle():
    return bundle_target("macos-arm64", check_tools=False)


def _keys(target, mac_identity: str, linux_identity: str = LINUX_IDENTITY) -> dict[str, str]:
    pins = load_manifest()
    steps = steps_for(target)
    sources = {s: pins[s].sha256 for step in steps for s in step.recipe.sources}
    trees = {name: "0" * 64 for step in steps for name in step.recipe.inputs}
    return step_keys(steps, target, {"macos": mac_identity, "linux": linux_identity}, sources, trees)


MAC_STEPS = ["openssl@clang", "xz@clang", "sqlite@clang", "cpython@clang", "wheels@clang", "freeze@clang",
             "zlib@clang", "libevent@clang", "tor@clang"]
LINUX_STEPS = ["rcodesign-crates@host", "rcodesign@host", "macapp@clang", "dmg@clang"]
TOOL_STEPS = ["rcodesign-crates@host", "rcodesign@host"]   # built as steps of linux-tools


def test_macos_bundle_compiles_on_the_mac_and_signs_and_packs_on_linux(mac):
    target = bundle_target("macos-arm64", check_tools=False)
    steps = steps_for(target)
    assert [s.id for s in steps] == MAC_STEPS + LINUX_STEPS
    local = get_executor("local")
    placement = Placement(mac, [local])
    assert {s.id: placement.for_step(s).name for s in steps} == \
        {**{s: "ssh:mac" for s in MAC_STEPS}, **{s: "local" for s in LINUX_STEPS}}
    by_id = {s.id: s for s in steps}
    # The signed .app is made from the Mac's frozen .app and the Mac's tor.
    assert by_id["macapp@clang"].deps == ("freeze@clang", "tor@clang", "rcodesign@host")
    assert by_id["dmg@clang"].deps == ("macapp@clang",)
    # Only downloads pinned by hash reach the network: wheels on the Mac, the crates on Linux.
    assert [s.id for s in steps if s.recipe.network] == ["wheels@clang", "rcodesign-crates@host"]
    # --only freeze: the Mac's part alone (a Mac CI runner has no Linux builder).
    from builders.bundle.app_build import _stop_at
    assert [s.id for s in steps_for(_stop_at(target, ["freeze"]))] == MAC_STEPS[:6]


def test_macos_toolchain_is_tor_and_cpython_with_system_zlib_bzip2_libffi():
    steps = {s.id: s for s in steps_for(load_target("macos-arm64"))}
    assert set(steps) == {"zlib@clang", "openssl@clang", "libevent@clang", "tor@clang",
                          "xz@clang", "sqlite@clang", "cpython@clang"}
    assert steps["tor@clang"].deps == ("zlib@clang", "openssl@clang", "libevent@clang")
    assert steps["cpython@clang"].deps == ("openssl@clang", "xz@clang", "sqlite@clang")


def test_macos_steps_get_the_macos_scripts_and_linux_steps_never_see_them():
    for name in ("tor", "cpython", "sqlite", "wheels", "freeze"):
        d = paths.RECIPES / name
        mac, linux = load_recipe(name, target_os="macos").files(), load_recipe(name).files()
        assert mac["build.sh"] == (d / "build.macos.sh").read_bytes()
        assert linux["build.sh"] == (d / "build.sh").read_bytes()
        assert not any(".macos." in f for f in [*mac, *linux])
        assert mac["common.sh"] == (paths.RECIPES / "common.macos.sh").read_bytes()
    # Recipes whose Linux script takes the macOS toolchain's variables are shared as they are.
    for name in ("zlib", "openssl", "libevent", "xz"):
        assert load_recipe(name, target_os="macos").files()["build.sh"] == (paths.RECIPES / name / "build.sh").read_bytes()


def test_keys_are_stable_and_differ_per_target(mac):
    arm, intel = bundle_target("macos-arm64", check_tools=False), bundle_target("macos-x86_64", check_tools=False)
    ident = _mac_identity(mac)
    first = _keys(arm, ident)
    assert first == _keys(arm, ident)
    assert len(set(first.values())) == len(first)
    other = _keys(intel, ident)
    assert set(other) == set(first)
    assert all(first[s] != other[s] for s in first if s not in TOOL_STEPS)
    # The signing tool is the same program for every target: one key, built once.
    assert all(first[s] == other[s] for s in TOOL_STEPS)
    tools = load_target("linux-tools")
    tool_steps = steps_for(tools)
    assert [s.id for s in tool_steps] == TOOL_STEPS
    assert step_keys(tool_steps, tools, LINUX_IDENTITY, {}) == {s: first[s] for s in TOOL_STEPS}
    # A Linux target's steps of the same names are keyed apart from the Mac's.
    linux = _keys(load_target("linux-x86_64"), ident)
    assert not set(linux.values()) & set(first.values())


def test_mac_identity_names_os_sdk_compiler_and_root(mac):
    ident = _mac_identity(mac)
    assert ident.startswith("ssh-macos:arm64:macOS 14.6.1:SDK 14.5:Apple clang version 15.0.0")
    assert ident.endswith(DEFAULT_ROOT)
    newer = _mac_identity(mac, MAC_PROBE.replace("sdk=14.5", "sdk=15.0"))
    assert newer != ident
    before, after = _keys(_bundle(), ident), _keys(_bundle(), newer)
    # Another SDK: every Mac step and all made from them change; the Linux-built signing
    # tool does not (its cache entry is kept), the signed .app and the .dmg do.
    assert all(before[s] != after[s] for s in MAC_STEPS + ["macapp@clang", "dmg@clang"])
    assert all(before[s] == after[s] for s in TOOL_STEPS)


def _with_linux_steps(tmp_path) -> object:
    """macos-arm64 plus two steps pinned to Linux: one built from nothing Mac-made, one from freeze."""
    root = tmp_path / "toolchains"
    (root / "targets").mkdir(parents=True)
    (root / "recipes").mkdir()
    for d in paths.RECIPES.iterdir():
        (root / "recipes" / d.name).symlink_to(d)
    for name, deps in (("tool", []), ("pack", ["freeze", "tool@linuxtc"])):
        d = root / "recipes" / name
        d.mkdir()
        (d / "recipe.toml").write_text(f'runs_on = "linux"\nsources = []\ndeps = {deps!r}\n'.replace("'", '"'))
        (d / "build.sh").write_text(". ./common.sh\n")
    doc = tomlkit.parse((paths.TARGETS / "macos-arm64.toml").read_text())
    doc["toolchains"]["linuxtc"] = {"CC": "gcc"}
    doc["outputs"] = {"freeze": "clang", "pack": "clang"}
    (root / "targets" / "macos-arm64.toml").write_text(tomlkit.dumps(doc))
    return load_target("macos-arm64", root / "targets")


def test_linux_steps_go_to_the_linux_builder_and_are_keyed_by_it(tmp_path, mac):
    target = _with_linux_steps(tmp_path)
    steps = {s.id: s for s in steps_for(target)}
    assert steps["pack@clang"].platform == steps["tool@linuxtc"].platform == "linux"
    assert steps["freeze@clang"].platform == "macos"
    assert steps["pack@clang"].recipe.files()["common.sh"] == (paths.RECIPES / "common.sh").read_bytes()
    local = get_executor("local")
    placement = Placement(mac, [local])
    assert placement.for_step(steps["pack@clang"]) is local and placement.for_step(steps["freeze@clang"]) is mac

    base = _keys(target, _mac_identity(mac))
    other_mac = _keys(target, _mac_identity(mac, MAC_PROBE.replace("macos=14.6.1", "macos=15.1")))
    other_linux = _keys(target, _mac_identity(mac), "docker:apaf/bookworm-build:abc")
    # Another Mac: every Mac step and what is made from them change; a Linux tool made from
    # nothing Mac-made keeps its key (and its cache entry).
    assert other_mac["tool@linuxtc"] == base["tool@linuxtc"]
    assert other_mac["freeze@clang"] != base["freeze@clang"] and other_mac["pack@clang"] != base["pack@clang"]
    # Another Linux builder: only the Linux steps change.
    assert other_linux["freeze@clang"] == base["freeze@clang"] and other_linux["cpython@clang"] == base["cpython@clang"]
    assert other_linux["tool@linuxtc"] != base["tool@linuxtc"] and other_linux["pack@clang"] != base["pack@clang"]


def test_a_macos_build_without_a_mac_builder_is_refused_naming_the_fix():
    target = _bundle()
    build = Build(target, get_executor("local"))
    with pytest.raises(ConfigError) as exc:
        build.run()
    assert 'runs on macos' in exc.value.message and 'os = "macos"' in exc.value.message
    with pytest.raises(ConfigError, match='needs a macos builder'):
        assign([target], ["local"])


def test_the_mac_builder_is_refused_for_a_linux_target(mac_inventory, monkeypatch):
    monkeypatch.setenv("APAF_BUILDERS", str(mac_inventory))
    with pytest.raises(ConfigError, match="ssh:mac runs macos steps, linux-x86_64 needs a linux builder"):
        assign([load_target("linux-x86_64")], ["ssh:mac"])


def test_bad_os_values_name_the_file_and_the_choices(tmp_path, mac_inventory):
    mac_inventory.write_text(mac_inventory.read_text().replace('os = "macos"', 'os = "darwin"'))
    with pytest.raises(ConfigError, match=r'\[builders.mac\]: os = "darwin" .* linux, macos'):
        get_executor("ssh:mac", inventory=mac_inventory)
    d = tmp_path / "recipes" / "r"
    d.mkdir(parents=True)
    (d / "recipe.toml").write_text('runs_on = "windows"\n')
    (d / "build.sh").write_text("")
    with pytest.raises(ConfigError, match='runs_on = "windows" is not an OS'):
        load_recipe("r", tmp_path / "recipes")


def _mac_job(target, step_id: str, tmp_path) -> Job:
    step = next(s for s in steps_for(target) if s.id == step_id)
    env = dict(target.toolchains[step.toolchain])
    return Job(step_id=step.id, recipe_files=step.recipe.files(), sources=[], deps={}, out_dir=tmp_path / "out",
               work_dir=tmp_path / "work", env=env, network=step.recipe.network)


@pytest.mark.parametrize("step_id, network", [("cpython@clang", False), ("wheels@clang", True)])
def test_remote_command_locks_the_fixed_root_and_sandboxes_the_step(mac, tmp_path, step_id, network):
    target = _bundle()
    job = _mac_job(target, step_id, tmp_path)
    assert job.network is network
    facts = mac.platform.parse(MAC_PROBE)
    env = job_env(job, facts["nproc"], target.source_date_epoch)
    command, shown = mac.platform.step_command("/var/tmp/apaf/job-1", None, env, network=job.network, facts=facts)
    script = command.split("<<'APAF_STEP_EOF'\n", 1)[1].split("\nAPAF_STEP_EOF\n", 1)[0]
    lock_line = command.rsplit("\n", 1)[1]
    # One step per root at a time: perl flocks <root>.lock and execs the step holding it.
    argv = shlex.split(lock_line)
    assert argv[:3] == ["exec", "perl", "-e"] and "flock($l, LOCK_EX)" in argv[3]
    assert argv[4:] == [f"{DEFAULT_ROOT}.lock", "/bin/sh", "/var/tmp/apaf/job-1/step.sh"]
    # The fixed root: inputs moved in, read-only, the root emptied before and after.
    assert f"R={DEFAULT_ROOT} J=/var/tmp/apaf/job-1" in script
    for part in ("recipe", "src", "deps", "inputs"):
        assert f'mv "$J/{part}" "$R/{part}"' in script
    assert 'chmod -R a-w "$R/recipe" "$R/src" "$R/deps" "$R/inputs"' in script
    assert script.count("\nclean\n") == 2
    # The sandbox: the generated profile, and build.sh with exactly the step's environment.
    sandbox = "sandbox-exec" + script.split("\nsandbox-exec", 1)[1].split("\nrc=$?", 1)[0]
    words = shlex.split(sandbox)
    assert words[:2] == ["sandbox-exec", "-p"]
    assert words[2] == sandbox_profile(DEFAULT_ROOT, network=network)
    assert ("(deny network*)" in words[2]) is (not network)
    assert f'(subpath "{DEFAULT_ROOT}/build")' in words[2] and f'(subpath "{DEFAULT_ROOT}/out")' in words[2]
    assert "(deny file-write*)" in words[2]
    inner = words[-1]
    assert inner.startswith(f"cd {DEFAULT_ROOT}/recipe && exec env -i ") and inner.endswith("/bin/sh -e ./build.sh")
    for var in (f"APAF_ROOT={DEFAULT_ROOT}", f"HOME={DEFAULT_ROOT}/build", "MACOSX_DEPLOYMENT_TARGET=11.0",
                "PATH=/usr/bin:/bin:/usr/sbin:/sbin", "SOURCE_DATE_EPOCH=1735689600", "JOBS=8"):
        assert var in shlex.split(inner)
    assert shown.startswith(f"lock {DEFAULT_ROOT}; sandbox-exec")
    assert mac.platform.new_group.startswith("perl -e ") and "setpgrp" in mac.platform.new_group


def test_build_root_comes_from_the_inventory(mac_inventory):
    mac_inventory.write_text(mac_inventory.read_text() + 'build_root = "/Users/apaf/root/"\n')
    ex = get_executor("ssh:mac", inventory=mac_inventory)
    assert ex.platform.root == "/Users/apaf/root"
    assert _mac_identity(ex).endswith(":/Users/apaf/root")
    assert '(subpath "/Users/apaf/root/out")' in sandbox_profile(ex.platform.root, network=False)


def test_the_linux_platform_is_unchanged_for_linux_hosts(mac_inventory):
    mac_inventory.write_text(mac_inventory.read_text().replace('os = "macos"\n', ""))
    ex = get_executor("ssh:mac", inventory=mac_inventory)
    assert ex.os == "linux" and ex.platform.new_group == "setsid"
    facts = ex.platform.parse("0\nx86_64\n4\nunshare\ntar\nsrv")
    assert ex.platform.identity(facts, load_target("linux-x86_64"), lambda c: (0, "zlib1g\t1:1.2\tinstall ok installed")) \
        == "ssh:x86_64:zlib1g=1:1.2"
    assert re.match(r"^unshare --mount --propagation private --net ", ex.platform.step_command(
        "/r", [], {}, network=False, facts=facts)[0])
    assert get_platform("linux").os == "linux"


def test_macos_locks_pin_the_linux_versions_with_the_macos_files(tmp_path):
    from builders.bundle import oslocks
    from builders.bundle.app_build import RUNTIME, check_locks, load_app, stage_inputs
    from builders.bundle.desktop import PackageInfo
    from builders.bundle.lock import pins

    chat = load_app(paths.REPO / "examples" / "chat")
    check_locks(chat, "macos")          # the committed macOS locks are current
    linux, mac = RUNTIME / "requirements.lock", RUNTIME / "requirements.macos.lock"
    assert pins(mac) == pins(linux)     # the same versions ship on both OSes
    text = mac.read_text()
    # A package with a C extension has a wheel per macOS architecture; pure ones one file.
    counts, name = {}, ""
    for line in text.splitlines()[1:]:
        if "==" in line:
            name = line.split("==")[0]
            counts[name] = 0
        elif "--hash=sha256:" in line:
            counts[name] += 1
    assert counts["aiohttp"] == counts["yarl"] == 2 and counts["stem"] == counts["jinja2"] == 1
    assert oslocks.platforms() == ("macosx_10_15_x86_64", "macosx_11_0_arm64")
    tools = pins(oslocks.TOOLS_LOCK)
    assert "staticx" not in tools and {"pyinstaller", "macholib", "setuptools"} <= set(tools)

    # A macOS bundle's wheels step gets the macOS locks; a Linux one's input is unchanged.
    info = PackageInfo.from_manifest(chat)
    mac_inputs = stage_inputs(chat, info, tmp_path / "mac", 1735689600, _bundle())
    linux_inputs = stage_inputs(chat, info, tmp_path / "linux", 1735689600, load_target("linux-x86_64"))
    assert (mac_inputs["requirements"] / "runtime.lock").read_bytes() == mac.read_bytes()
    assert (linux_inputs["requirements"] / "runtime.lock").read_bytes() == linux.read_bytes()
    assert not (linux_inputs["package"] / "macos").exists() and (mac_inputs["package"] / "macos" / "Info.plist").is_file()


def test_a_stale_macos_lock_names_the_command(tmp_path, monkeypatch):
    from builders.bundle import oslocks
    from builders.bundle.app_build import check_locks, load_app

    stale = tmp_path / "requirements.macos.lock"
    stale.write_text(oslocks.RUNTIME_LOCK.read_text().replace("inputs-sha256: ", "inputs-sha256: 0"))
    monkeypatch.setattr(oslocks, "RUNTIME_LOCK", stale)
    with pytest.raises(ConfigError, match=r"requirements.macos.lock is out of date .* ci/farm lock"):
        check_locks(load_app(paths.REPO / "examples" / "chat"), "macos")

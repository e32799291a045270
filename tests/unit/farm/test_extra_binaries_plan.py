"""extra_binaries in the farm's plan: the listed programs' recipes become deps of the app's
freeze step (and only then); every program the runtime accepts has a linux-x86_64 recipe."""
import pytest

from apaf.binaries import PROGRAMS
from apaf.manifest import load_manifest
from builders.bundle.app_build import bundle_target
from builders.bundle.binaries import binaries_target, binary_steps, freeze_deps
from builders.errors import ConfigError
from builders.plan import step_keys, steps_for
from builders.recipes import load_recipe

HEAD = '[app]\nname="signer"\nversion="1"\nentry="signer:main"\n'


def app(tmp_path, body=""):
    (tmp_path / "apaf.toml").write_text(HEAD + body)
    return load_manifest(tmp_path)


def keys(steps, target):
    sources = {s: "0" * 64 for step in steps for s in step.recipe.sources}
    trees = {i: "1" * 64 for step in steps for i in step.recipe.inputs}
    return step_keys(steps, target, "identity", sources, trees)


def test_every_program_the_runtime_accepts_has_a_recipe():
    steps = binary_steps("linux-x86_64")
    assert set(steps) == set(PROGRAMS)
    for spec in steps.values():
        load_recipe(spec.partition("@")[0])


def test_listed_programs_join_freeze_and_unlisted_ones_are_not_built(tmp_path):
    target = bundle_target("linux-x86_64", check_tools=False)
    plain = {s.id: s for s in steps_for(target)}
    manifest = app(tmp_path, 'privileges=["run-binaries"]\nextra_binaries=["gpg"]\n')
    with_gpg = {s.id: s for s in steps_for(target, extra_deps=freeze_deps(manifest, "linux-x86_64"))}
    assert "gnupg@musl" in with_gpg["freeze@gnu"].deps and "gnupg@musl" not in plain
    assert not any(i.startswith("7zip@") for i in with_gpg)
    # An app without extra_binaries keeps every key it had (cached bundles stay cached).
    (tmp_path / "plain").mkdir()
    assert freeze_deps(app(tmp_path / "plain"), "linux-x86_64") == {}
    k_plain, k_gpg = keys(list(plain.values()), target), keys(list(with_gpg.values()), target)
    assert k_plain["cpython@gnu"] == k_gpg["cpython@gnu"] and k_plain["freeze@gnu"] != k_gpg["freeze@gnu"]


def test_binaries_task_builds_the_same_steps_as_a_bundle():
    target = binaries_target("linux-x86_64", ["gpg", "7zz"])
    assert target.outputs == {"gnupg": "musl", "7zip": "gnu"}
    bundle = bundle_target("linux-x86_64", check_tools=False)
    assert target.digest() == bundle.digest()   # hence the same step keys


def test_a_target_without_the_program_says_what_it_builds(tmp_path):
    manifest = app(tmp_path, 'privileges=["run-binaries"]\nextra_binaries=["7zz"]\n')
    with pytest.raises(ConfigError, match=r"7zz cannot be built for macos-arm64 yet.*it builds: none"):
        freeze_deps(manifest, "macos-arm64")


def test_packages_name_the_licences_of_the_programs_they_carry(tmp_path):
    from builders.bundle import deb, rpm
    from builders.bundle.desktop import PackageInfo
    body = 'maintainer="A <a@example.org>"\nlicense="MIT"\nprivileges=["run-binaries"]\n'
    plain = PackageInfo.from_manifest(app(tmp_path, body))
    (tmp_path / "gpg").mkdir()
    signer = PackageInfo.from_manifest(app(tmp_path / "gpg", body + 'extra_binaries=["gpg"]\n'))
    assert "GnuPG" not in deb.copyright_text(plain) and "GPL-3.0-or-later" not in rpm.license_tag(plain)
    assert " - GnuPG 1.4 (gpg) (GPL-3.0-or-later);" in deb.copyright_text(signer)
    assert rpm.license_tag(signer).endswith(" AND GPL-3.0-or-later")

"""extra_binaries and apaf.binary(): known names only, granted by run-binaries, found where the
bundle (or $APAF_BINARIES in the dev tree) keeps them; every refusal names the fix."""
import os

import pytest

import apaf
from apaf.binaries import ENV_VAR, executables
from apaf.errors import BinaryNotFound, ManifestError
from apaf.manifest import load_manifest

HEAD = '[app]\nname="signer"\nversion="1"\nentry="signer:main"\n'


def app(tmp_path, body):
    (tmp_path / "apaf.toml").write_text(HEAD + body)
    return tmp_path


def program(folder, name):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("#!/bin/sh\n")
    (folder / name).chmod(0o755)


def test_unknown_program_lists_the_known_ones(tmp_path):
    with pytest.raises(ManifestError) as err:
        load_manifest(app(tmp_path, 'privileges=["run-binaries"]\nextra_binaries=["gpg2"]\n'))
    assert "unknown program 'gpg2'" in str(err.value) and "did you mean 'gpg'" in str(err.value)
    assert "7zz, gpg" in str(err.value)


def test_listed_program_needs_the_privilege(tmp_path):
    with pytest.raises(ManifestError, match='add "run-binaries" to privileges'):
        load_manifest(app(tmp_path, 'extra_binaries=["gpg"]\n'))


def test_binary_resolves_listed_program_from_apaf_binaries(tmp_path, monkeypatch):
    program(tmp_path / "bin", "gpg")
    program(tmp_path / "bin", "7zz")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "bin"))
    monkeypatch.setenv("APAF_APP_DIR", str(app(tmp_path, 'privileges=["run-binaries"]\nextra_binaries=["gpg"]\n')))
    assert apaf.binary("gpg") == tmp_path / "bin" / "gpg" and os.path.isabs(apaf.binary("gpg"))
    # What the sandbox may execute: gpg, never the unlisted 7zz lying beside it.
    assert executables(load_manifest(tmp_path)) == [tmp_path / "bin" / "gpg"]
    with pytest.raises(BinaryNotFound, match=r"does not list '7zz'; add extra_binaries = \[\"7zz\"\]"):
        apaf.binary("7zz")


def test_missing_build_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("APAF_APP_DIR", str(app(tmp_path, 'privileges=["run-binaries"]\nextra_binaries=["7zz"]\n')))
    with pytest.raises(BinaryNotFound, match=r"ci/farm binaries --dest DIR.*APAF_BINARIES=DIR"):
        apaf.binary("7zz")


def test_no_privilege_means_nothing_executable(tmp_path):
    assert executables(load_manifest(app(tmp_path, ""))) == []

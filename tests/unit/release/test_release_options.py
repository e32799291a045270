"""Bad --builders / --caches stop a release before any build, naming the problem and the fix."""
from __future__ import annotations

import pytest

import builders.bundle.release as rel
from builders.errors import ConfigError
from builders.tasks.release import _caches


@pytest.fixture
def no_build(monkeypatch):
    monkeypatch.setattr(rel, "build_app", lambda *a, **k: pytest.fail("built despite bad options"))


def test_a_builder_named_twice_is_refused(release_key, tmp_path, no_build):
    fpr, home, _ = release_key
    with pytest.raises(ConfigError, match="names a builder twice"):
        rel.release([tmp_path], key=fpr, gnupghome=str(home), dist=tmp_path / "r", builders=["local", "local"])


def test_a_cache_for_a_builder_not_in_the_release_is_refused(release_key, tmp_path, no_build):
    fpr, home, _ = release_key
    with pytest.raises(ConfigError, match="--caches names docker, which is not one of --builders local"):
        rel.release([tmp_path], key=fpr, gnupghome=str(home), dist=tmp_path / "r", builders=["local"],
                    caches={"docker": tmp_path})


def test_caches_option_wants_builder_equals_folder():
    assert _caches("local=/a,docker=/b") == {"local": rel.Path("/a"), "docker": rel.Path("/b")}
    with pytest.raises(ConfigError, match="BUILDER=FOLDER"):
        _caches("/just/a/folder")

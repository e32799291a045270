"""Runtime pieces that need no tor: torrc rendering, tor lookup, key files, settings, CLI errors."""
import asyncio
import json
import os
import stat

import pytest

from apaf import cli
from apaf.errors import ConfigError, OnionError, TorNotFound
from apaf.onion import read_key
from apaf.settings import Settings
from apaf.tor import binary, torrc

KEY = "ED25519-V3:" + "A" * 86 + "=="


def test_torrc_is_loopback_cookie_owned_and_user_lines_last(tmp_path):
    text = torrc.render(tmp_path / "tor", owner_pid=1234, join_lines=["TestingTorNetwork 1"],
                        extra="ExitNodes {de}\n")
    lines = text.splitlines()
    # tor binds its own SOCKS port (no moment where another user could take it first)
    assert "SocksPort 127.0.0.1:auto" in lines
    assert "ControlPort 127.0.0.1:auto" in lines and "CookieAuthentication 1" in lines
    assert "__OwningControllerProcess 1234" in lines and f"DataDirectory {tmp_path / 'tor'}" in lines
    assert lines.index("TestingTorNetwork 1") < lines.index("ExitNodes {de}") == len(lines) - 1


async def test_verify_config_reports_tors_own_complaint(tmp_path):
    tor = binary.find_tor()
    base = torrc.render(tmp_path)
    await torrc.verify(tor, base)  # accepted: no exception
    from apaf.errors import TorrcRejected
    with pytest.raises(TorrcRejected, match="Unknown option 'NoSuchOption'"):
        await torrc.verify(tor, base + "NoSuchOption 1\n")


def test_find_tor_prefers_apaf_tor_and_explains_a_bad_one(tmp_path, monkeypatch):
    fake = tmp_path / "tor"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("APAF_TOR", str(fake))
    assert binary.find_tor() == fake
    monkeypatch.setenv("APAF_TOR", str(tmp_path / "missing"))
    with pytest.raises(TorNotFound, match="APAF_TOR=.*missing: not an executable"):
        binary.find_tor()
    monkeypatch.delenv("APAF_TOR")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(binary, "shutil", type("S", (), {"which": staticmethod(lambda *a, **k: None)}))
    with pytest.raises(TorNotFound, match="apt-get install tor"):
        binary.find_tor()


def test_child_env_restores_ld_library_path(monkeypatch):
    monkeypatch.setenv("LD_LIBRARY_PATH", "/tmp/_MEIxyz")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    env = binary.child_env()
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib" and "LD_LIBRARY_PATH_ORIG" not in env


def test_key_file_damage_is_an_error_never_a_new_key(tmp_path):
    path = tmp_path / "site.key"
    assert read_key(path) is None
    path.write_text(KEY + "\n")
    assert read_key(path) == KEY
    path.write_text(KEY[:40])
    with pytest.raises(OnionError, match=r"site.key: not an ED25519-V3 onion key; restore it"):
        read_key(path)


def test_settings_roundtrip_adopt_and_bad_file(tmp_path):
    path = tmp_path / "settings.json"
    s = Settings.load(path)
    s.adopt(["site", "chat"])
    s.enabled_apps.remove("chat")
    s.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = Settings.load(path)
    again.adopt(["site", "chat", "new"])
    assert again.enabled_apps == ["site", "new"]  # chat stays disabled, new app starts enabled
    path.write_text("{broken")
    with pytest.raises(ConfigError, match="settings.json: unreadable settings"):
        Settings.load(path)


def test_cli_bad_manifest_names_file_and_field(tmp_path, capsys):
    (tmp_path / "apaf.toml").write_text('[app]\nname = "Bad Name"\nversion = "1"\nentry = "a:b"\n')
    code = cli.main(["run", "--data-dir", str(tmp_path / "d"), "--no-admin", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{tmp_path / 'apaf.toml'}: [app].name: 'Bad Name' must match" in err


def test_status_when_nothing_runs(tmp_path, capsys):
    assert cli.main(["status", "--json", "--data-dir", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tor"]["running"] is False and data["apps"] == [] and data["admin"] is None


def test_restart_backoff_grows_then_resets_after_a_stable_run():
    from apaf.restart import Backoff

    b = Backoff()
    assert [b.after_crash(1) for _ in range(8)] == [0.5, 1, 2, 5, 10, 30, 30, 30]
    assert b.after_crash(3600) == 0.5  # ran an hour: a fresh first crash


def test_second_runtime_on_the_same_data_dir_is_refused(tmp_path):
    from apaf import paths

    layout = paths.Layout(tmp_path)
    layout.prepare()
    held = paths.lock_data_dir(layout)
    assert paths.data_dir_in_use(layout)
    with pytest.raises(ConfigError, match="in use by another `apaf run`; stop it first"):
        paths.lock_data_dir(layout)
    paths.unlock_data_dir(held)
    assert not paths.data_dir_in_use(layout)


def hs_desc(action, hsdir, address="abc"):
    """A stand-in for stem's HSDescEvent."""
    from types import SimpleNamespace

    return SimpleNamespace(type="HS_DESC", action=action, address=address, directory_fingerprint=hsdir)


def active_service(tmp_path, changes: list | None = None):
    from apaf.onion import OnionServices

    changes = [] if changes is None else changes
    onions = OnionServices(tor=None, keys_dir=tmp_path, on_change=lambda: changes.append(1))
    svc = onions.get("site")
    svc.service_id, svc.active = "abc", True
    return onions, svc


async def test_published_only_when_the_whole_upload_round_answered(tmp_path):
    changes = []
    onions, svc = active_service(tmp_path, changes)
    for hsdir in ("A", "A", "B"):  # tor uploads one descriptor per time period
        onions.on_hs_desc(hs_desc("UPLOAD", hsdir))
    onions.on_hs_desc(hs_desc("UPLOADED", "A", address="other"))
    onions.on_hs_desc(hs_desc("UPLOADED", "A"))
    onions.on_hs_desc(hs_desc("FAILED", "B"))
    assert not svc.published
    onions.on_hs_desc(hs_desc("UPLOADED", "A"))
    assert svc.published and changes


async def test_published_when_an_upload_never_answers(tmp_path, monkeypatch):
    """tor sends no HS_DESC answer for an upload whose circuit or connection failed (an
    HSDir gone down): the service counts as published a grace after the first acceptance."""
    from apaf.onion import UploadRound

    monkeypatch.setattr(UploadRound, "ANSWER_GRACE", 0.3)
    onions, svc = active_service(tmp_path)
    for hsdir in ("A", "B"):
        onions.on_hs_desc(hs_desc("UPLOAD", hsdir))
    onions.on_hs_desc(hs_desc("UPLOADED", "A"))  # B never answers
    await asyncio.sleep(0.1)
    assert not svc.published
    await asyncio.wait_for(onions.wait_published("site"), 5)
    assert svc.published


async def test_a_replaced_upload_round_does_not_publish(tmp_path, monkeypatch):
    """The grace of a round that tor's restart (or an unpublish) replaced publishes nothing."""
    from apaf.onion import UploadRound

    monkeypatch.setattr(UploadRound, "ANSWER_GRACE", 0.1)
    onions, svc = active_service(tmp_path)
    for hsdir in ("A", "B"):
        onions.on_hs_desc(hs_desc("UPLOAD", hsdir))
    onions.on_hs_desc(hs_desc("UPLOADED", "A"))
    svc.round = UploadRound()  # what publish() does for a new tor
    await asyncio.sleep(0.3)
    assert not svc.published

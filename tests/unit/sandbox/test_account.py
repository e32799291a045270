"""Apps never run as root: the app's uid, and the private view that lets it reach its paths."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from apaf.sandbox import account

linux_root = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux")


def test_app_uid_is_stable_in_the_dynamic_range_and_differs_between_apps():
    uids = {n: account.app_uid(n) for n in ("chat", "static-site", "escapes", "envecho")}
    assert all(account.FIRST_UID <= u <= account.LAST_UID for u in uids.values())
    assert len(set(uids.values())) == len(uids) and account.app_uid("chat") == uids["chat"]


def test_app_uid_is_never_the_number_of_an_existing_group(monkeypatch):
    """The app runs with gid == uid: a number /etc/group names would make the app a member of
    that group (its files, wherever Landlock does not stand in the way)."""
    import grp
    first = account.app_uid("chat")
    real = grp.getgrgid

    def group_on_first(gid):
        return grp.struct_group(("taken", "x", gid, [])) if gid == first else real(gid)

    monkeypatch.setattr(grp, "getgrgid", group_on_first)
    again = account.app_uid("chat")
    assert again != first and account.FIRST_UID <= again <= account.LAST_UID


@linux_root
def test_two_apps_whose_names_hash_alike_never_share_a_uid(tmp_path):
    """Red-team finding: "files651" and "chat" hash to the same uid, and both ran as it,
    owning each other's folders."""
    from apaf.sandbox import linux
    assert account.app_uid("files651") == account.app_uid("chat")
    dirs = {n: tmp_path / n for n in ("chat", "files651")}
    for d in dirs.values():
        d.mkdir(mode=0o700)
    uids = {n: int(linux.app_identity(n, [d])[account.UID_VAR]) for n, d in dirs.items()}
    assert uids["chat"] != uids["files651"], uids
    assert {n: d.stat().st_uid for n, d in dirs.items()} == uids
    assert int(linux.app_identity("chat", [dirs["chat"]])[account.UID_VAR]) == uids["chat"]  # a restart


def test_blocked_dirs_are_the_ones_the_uid_cannot_cross(tmp_path):
    (tmp_path / "open" / "closed" / "data").mkdir(parents=True)
    tmp_path.chmod(0o755)
    (tmp_path / "open").chmod(0o755)
    (tmp_path / "open" / "closed").chmod(0o700)
    blocked = account.blocked_dirs([tmp_path / "open" / "closed" / "data"], 61184)
    assert str(tmp_path / "open" / "closed") in blocked and str(tmp_path / "open") not in blocked



def test_a_wanted_folder_the_uid_cannot_enter_is_covered_too(tmp_path):
    """APAF_BINARIES made 0700 by root: the folder is wanted (gpg's helpers sit beside it) and so
    are its programs; the uid must reach the programs through a cover of the folder."""
    tmp_path.chmod(0o755)
    bins = tmp_path / "binaries"
    bins.mkdir(mode=0o700)
    (bins / "gpg").write_text("")
    (bins / "gpg").chmod(0o755)
    assert str(bins) in account.blocked_dirs([bins, bins / "gpg"], 61184)
    bins.chmod(0o755)
    assert str(bins) not in account.blocked_dirs([bins, bins / "gpg"], 61184)

@linux_root
def test_app_user_reaches_only_its_paths_and_keeps_no_capability(tmp_path):
    """Beneath a 0700 root directory (like D, or /root), the app's uid sees its own data
    directory and nothing else there; it writes there and nowhere it does not own."""
    uid = account.app_uid("t")
    d = tmp_path / "d"
    (d / "keys").mkdir(parents=True)
    (d / "keys" / "app.key").write_text("secret")
    (d / "apps" / "t").mkdir(parents=True)
    (d / "apps" / "other").mkdir()
    for p in (d, d / "apps", d / "keys"):
        p.chmod(0o700)
    account.hand_over(d / "apps" / "t", uid)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import json, os
        from apaf.sandbox import account
        covered = account.expose([{str(d / 'apps' / 't')!r}], {uid})
        account.drop({uid})
        def attempt(f):
            try:
                f(); return "ok"
            except OSError as e:
                return type(e).__name__
        print(json.dumps({{
            "covered": covered, "ids": [os.getuid(), os.getgid(), os.getgroups()],
            "caps": [ln for ln in open("/proc/self/status") if ln.startswith(("CapEff", "CapPrm", "CapBnd"))],
            "list_d": attempt(lambda: os.listdir({str(d)!r})), "list_apps": attempt(lambda: os.listdir({str(d / 'apps')!r})),
            "stat_apps": attempt(lambda: os.stat({str(d / 'apps')!r})), "stat_keys": attempt(lambda: os.stat({str(d / 'keys')!r})),
            "stat_other": attempt(lambda: os.stat({str(d / 'apps' / 'other')!r})),
            "write_own": attempt(lambda: open({str(d / 'apps' / 't' / 'f')!r}, "w").close()),
            "read_key": attempt(lambda: open({str(d / 'keys' / 'app.key')!r}).read()),
            "write_beside": attempt(lambda: open({str(d / 'x')!r}, "w").close()),
            "setuid_back": attempt(lambda: os.setuid(0)),
        }}))
    """)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert str(d) in got["covered"] and got["ids"] == [uid, uid, []], got
    assert all(ln.split()[1].strip("0") == "" for ln in got["caps"][:2]), got["caps"]
    # The covering directories may be crossed, not listed; nothing but the way to its data is there.
    assert got["list_d"] == got["list_apps"] == "PermissionError" and got["stat_apps"] == "ok", got
    assert got["stat_keys"] == got["stat_other"] == "FileNotFoundError", got
    assert got["write_own"] == "ok" and (d / "apps" / "t" / "f").stat().st_uid == uid
    assert got["read_key"] == "FileNotFoundError" and got["write_beside"] in ("OSError", "PermissionError")
    assert got["setuid_back"] == "PermissionError"
    assert sorted(os.listdir(d)) == ["apps", "keys"]  # the view was the app's only

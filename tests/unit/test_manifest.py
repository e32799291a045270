"""apaf.toml validation: good manifests load, bad ones name the file, the field and the fix."""
import json
import subprocess
import sys

import pytest

from apaf.errors import ManifestError
from apaf.manifest import load_manifest

GOOD = """
[app]
name = "chat"
version = "1.0.0"
entry = "chat_app:main"
title = "Chat"
icon = "icon.png"
dependencies = ["aiohttp>=3.9"]
privileges = ["outbound-tor"]
ports = [80, 8080]

[settings]
rooms = ["lobby"]
"""


def write(tmp_path, text):
    (tmp_path / "apaf.toml").write_text(text)
    return tmp_path


def test_good_manifest_loads(tmp_path):
    (tmp_path / "icon.png").write_bytes(b"png")
    m = load_manifest(write(tmp_path, GOOD))
    assert (m.name, m.version, m.entry, m.title) == ("chat", "1.0.0", "chat_app:main", "Chat")
    assert m.icon == tmp_path / "icon.png"
    assert m.ports == (80, 8080) and m.http_port == 80
    assert m.settings == {"rooms": ["lobby"]}
    assert m.app_dir == tmp_path


def test_minimal_manifest_defaults(tmp_path):
    m = load_manifest(write(tmp_path, '[app]\nname="site"\nversion="1"\nentry="apaf.staticsite:main"\n'))
    assert m.title == "site" and m.ports == (80,) and m.settings == {} and m.icon is None


BAD = [
    ('[app]\nname="Chat!"\nversion="1"\nentry="a:b"\n', "[app].name", "lowercase letters"),
    ('[app]\nversion="1"\nentry="a:b"\n', "[app].name", "missing"),
    ('[app]\nname="x"\nentry="a:b"\n', "[app].version", "missing"),
    ('[app]\nname="x"\nversion="1"\nentry="a.b"\n', "[app].entry", "module:function"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nports=[0]\n', "[app].ports", "1-65535"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nports=80\n', "[app].ports", "ports = [80]"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nicon="nope.png"\n', "[app].icon", "does not exist"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nicon="../etc/passwd"\n', "[app].icon", "inside the app"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nprivileges=["outbound_tor"]\n',
     "[app].privileges", "did you mean 'outbound-tor'"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nentrypoint="a:b"\n', "[app].entrypoint", "did you mean 'entry'"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\n[setings]\n', "[setings]", "did you mean 'settings'"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\ndependencies="aiohttp"\n', "[app].dependencies", "list"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nmaintainer="Ada"\n', "[app].maintainer", "angle brackets"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nmaintainer="Ada <ada>"\n', "[app].maintainer", "Name <address>"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nlicense="GPL3"\n', "[app].license", "GPL-3.0-or-later"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nlicense="MIT AND"\n', "[app].license", "spdx.org/licenses"),
    ('[app]\nname="x"\nversion="1"\nentry="a:b"\nlicense=""\n', "[app].license", "not an SPDX license expression"),
    ('name="x"\n', "[name]", "known keys"),
    ('[app\nname="x"\n', "not valid TOML", "fix the syntax"),
]


@pytest.mark.parametrize("text,field,fix", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_manifest_names_file_field_and_fix(tmp_path, text, field, fix):
    with pytest.raises(ManifestError) as err:
        load_manifest(write(tmp_path, text))
    message = str(err.value)
    assert str(tmp_path / "apaf.toml") in message
    assert field in message and fix in message


def test_missing_manifest_says_what_to_add(tmp_path):
    with pytest.raises(ManifestError, match=r"apaf.toml.*\[app\] table"):
        load_manifest(tmp_path)


def test_missing_app_directory_is_named(tmp_path):
    with pytest.raises(ManifestError, match=r"nope: no such app directory; pass the folder"):
        load_manifest(tmp_path / "nope")


def test_maintainer_and_license_are_kept_the_license_in_canonical_spdx_form(tmp_path):
    m = load_manifest(write(tmp_path, '[app]\nname="x"\nversion="1"\nentry="a:b"\n'
                                      'maintainer="Ada Lovelace <ada@example.org>"\n'
                                      'license="apache-2.0 or mit"\n'))
    assert m.maintainer == "Ada Lovelace <ada@example.org>"
    assert m.license == "Apache-2.0 OR MIT"


def test_own_terms_and_exceptions_are_valid_spdx(tmp_path):
    for lic in ("LicenseRef-Proprietary", "GPL-2.0-only WITH Classpath-exception-2.0"):
        assert load_manifest(write(tmp_path, f'[app]\nname="x"\nversion="1"\nentry="a:b"\nlicense="{lic}"\n')).license == lic


def test_the_spdx_table_is_not_kept_after_the_licence_is_checked(tmp_path):
    # The runtime and each app process load manifests once at start: the SPDX table (~1 MB)
    # must not stay in their memory; a second manifest is checked as well as the first.
    for name, licence in (("one", "mit"), ("two", "BAD LICENCE")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "apaf.toml").write_text(
            f'[app]\nname = "{name}"\nversion = "1.0"\nentry = "app:main"\nlicense = "{licence}"\n')
    probe = ("import json, sys\nfrom apaf.manifest import load_manifest\nfrom apaf.errors import ManifestError\n"
             f"first = load_manifest({str(tmp_path / 'one')!r}).license\n"
             "kept = sorted(m for m in sys.modules if m.startswith('packaging.licenses'))\n"
             "try:\n"
             f"    load_manifest({str(tmp_path / 'two')!r}); second = 'accepted'\n"
             "except ManifestError as err:\n"
             "    second = str(err)\n"
             "print(json.dumps([first, kept, second]))")
    first, kept, second = json.loads(subprocess.run([sys.executable, "-c", probe], check=True,
                                                    capture_output=True, text=True).stdout)
    assert first == "MIT" and kept == []
    assert "[app].license" in second and "not an SPDX license expression" in second

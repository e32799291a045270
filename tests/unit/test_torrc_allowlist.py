"""The torrc editor's allowlist (apaf.tor.policy): what it accepts, refuses and says. No tor run,
except `tor --list-torrc-options` to check the data file names real options."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from apaf.errors import TorrcRejected
from apaf.tor import policy


def refusal(text: str) -> str:
    with pytest.raises(TorrcRejected) as err:
        policy.check(text)
    return str(err.value)


@pytest.fixture(scope="module")
def tor_options() -> set[str]:
    tor = shutil.which("tor")
    if tor is None:
        pytest.fail("tor is not installed (ci/apt-packages.txt lists it)")
    out = subprocess.run([tor, "--list-torrc-options"], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_every_allowed_and_named_refused_option_is_a_real_tor_option(tor_options):
    allowed = {r.name for r in policy.rules().values()}
    assert len(allowed) >= 30
    assert allowed - tor_options == set()  # a typo would allow nothing and confuse users
    named = {n for g in policy._policy()["refuse"].values() for n in g.get("names", [])}
    assert named - tor_options == set()
    assert allowed & named == set()
    for rule in policy.rules().values():
        assert rule.reason and "\n" not in rule.reason and rule.readback in {"same", "normalized"}


def test_every_other_tor_option_is_refused_by_name(tor_options):
    allowed = {r.name for r in policy.rules().values()}
    for name in sorted(tor_options - allowed):
        for spelling in (name, name.lower(), name.upper()):
            message = refusal(f"{spelling} 1\n")
            assert message.startswith(f"line 1: {spelling} is refused: "), message
    assert "opens a listening socket" in refusal("__SocksPort 0.0.0.0:9050\n")


def test_no_allowed_option_opens_a_listener_or_names_a_path():
    # ClientPreferIPv6ORPort chooses which relay port to connect to: no listener.
    for name in (r.name.lower() for r in policy.rules().values() if r.name != "ClientPreferIPv6ORPort"):
        assert not name.endswith(("port", "dir", "directory", "file", "socket", "address"))
        assert not name.startswith("hiddenservice") and name not in {"log", "disablenetwork"}
    assert {"usebridges", "bridge", "connectionpadding", "reducedconnectionpadding",
            "entrynodes", "exitnodes", "bandwidthrate"} <= set(policy.rules())


def test_allowed_lines_comments_blank_lines_and_case():
    text = ("# a comment\n\n   \nusebridges 1   # trailing comment\n"
            "Bridge 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567\n"
            "BRIDGE 192.0.2.2:443\nExitNodes {de},{nl}\nBandwidthRate 2 MB\n")
    entries = policy.check(text)
    assert [(e.lineno, e.name, e.value) for e in entries] == [
        (4, "UseBridges", "1"),
        (5, "Bridge", "192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567"),
        (6, "Bridge", "192.0.2.2:443"), (7, "ExitNodes", "{de},{nl}"),
        (8, "BandwidthRate", "2 MB")]
    assert policy.check("") == [] and policy.check("# only a comment\n") == []


@pytest.mark.parametrize("line, says", [
    ("SocksPort 0.0.0.0:9050", "SocksPort is refused: it opens a listening socket"),
    ("ControlPort 0.0.0.0:9051", "ControlPort is refused: it opens a listening socket"),
    ("controlport 9051", "controlport is refused: it opens a listening socket"),
    ("DNSPort 53", "DNSPort is refused: it opens a listening socket"),
    ("HiddenServiceDir /tmp/x", "HiddenServiceDir is refused: it publishes or configures"),
    ("HiddenServicePort 80 127.0.0.1:80", "HiddenServicePort is refused: it publishes"),
    ("HiddenServiceEnableIntroDoSDefense 1", "only after a HiddenServiceDir line"),
    ("Log debug file /tmp/tor.log", "Log is refused: it names a file or directory"),
    ("DataDirectory /tmp", "DataDirectory is refused: it names a file or directory"),
    ("GeoIPFile /etc/shadow", "GeoIPFile is refused: it names a file or directory"),
    ("DisableNetwork 1", "DisableNetwork is refused: it takes the onion service offline"),
    ("CookieAuthentication 0", "CookieAuthentication is refused: it changes who may control"),
    ("User nobody", "User is refused: it changes how the tor process itself runs"),
    ("ClientOnly 0", "ClientOnly is refused: it changes how the tor process itself runs"),
    ("%include /etc/passwd", "%include is refused: it makes tor read another file"),
    ("   %include /etc/passwd", "%include is refused"),
    ("%include\t/etc/passwd", "%include is refused"),
    ("Socks 0.0.0.0:9050", "'Socks' is refused: tor reads it as an abbreviation"),
    ("UseBrid 1", "'UseBrid' is refused: tor reads it as an abbreviation"),
    ("+Bridge 192.0.2.1:443", "tor's '+'/'/' prefixes are not supported"),
    ("/UseBridges", "tor's '+'/'/' prefixes are not supported"),
    ("UseBridges 1 \\", "ends in '\\' (tor would join it with the next line)"),
    ("UseBridges\x0b1", "control character U+000B"),
    ("UseBridges 1\r", "control character U+000D"),
    ("UseBridges 1\x00", "control character U+0000"),
    ("MaxCircuitDirtyness 600", "(did you mean MaxCircuitDirtiness?)"),
    ("NoSuchOption 1", "NoSuchOption is refused: it is not one of the settings"),
    (".", ". is refused"),
])
def test_refused_line_names_the_option_and_why(line, says):
    message = refusal(line + "\n")
    assert message.startswith("line 1: ") and says in message, message


def test_continuation_cannot_smuggle_a_second_line():
    message = refusal("ExitNodes {us},\\\nSocksPort 0.0.0.0:9050\n")
    assert "line 1: ends in '\\'" in message and "line 2: SocksPort is refused" in message


def test_every_refused_line_is_listed_and_nothing_is_accepted_partly():
    message = refusal("UseBridges 1\nSocksPort 0.0.0.0:1\nExitNodes {de}\nDisableNetwork 1\n")
    assert "line 2: SocksPort" in message and "line 4: DisableNetwork" in message
    assert "line 1" not in message and "line 3" not in message


def test_duplicate_single_option_refused_list_option_kept():
    assert "line 3: UseBridges is already set on line 1; keep one of them" in refusal(
        "UseBridges 1\nExitNodes {de}\nusebridges 0\n")
    assert len(policy.check("Bridge 192.0.2.1:443\nBridge 192.0.2.2:443\n")) == 2


def test_include_message_never_holds_file_content(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("root:x:0:0:TOP-SECRET\n")
    message = refusal(f"%include {secret}\n")
    assert "TOP-SECRET" not in message and "root:x" not in message


@pytest.fixture
def transport(tmp_path):
    """A file named like a pluggable-transport client in a private directory (owner: us)."""
    folder = tmp_path / "bin"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    program = folder / "lyrebird"
    program.write_text("#!/bin/sh\n")
    os.chmod(program, 0o755)
    return program


def test_client_transport_plugin_known_program_accepted(transport):
    entries = policy.check(f"ClientTransportPlugin obfs4,meek_lite exec {transport} -enableLogging\n"
                           "Bridge obfs4 192.0.2.1:443 0123456789ABCDEF0123456789ABCDEF01234567 "
                           "cert=AAAA iat-mode=0\n")
    assert [e.name for e in entries] == ["ClientTransportPlugin", "Bridge"]


@pytest.mark.parametrize("value, says", [
    ("obfs4 exec /bin/sh -c id", "'/bin/sh' is not a known pluggable-transport client"),
    ("obfs4 exec lyrebird", "'lyrebird' is not a known pluggable-transport client"),
    ("obfs4 socks5 127.0.0.1:1080", "only the 'TRANSPORTS exec /path/to/program' form"),
    ("obfs4 exec {prog} -log /tmp/x", "argument '-log' is not allowed"),
    ("obfs4 exec \"{prog}\"", "without quotes or backslashes"),
    ("ob;fs4 exec {prog}", "not a comma-separated list of transport names"),
    ("obfs4 exec /nonexistent/lyrebird", "/nonexistent/lyrebird does not exist"),
])
def test_client_transport_plugin_refusals(transport, value, says):
    message = refusal(f"ClientTransportPlugin {value.format(prog=transport)}\n")
    assert "ClientTransportPlugin refused: " in message and says in message, message


def test_client_transport_plugin_writable_by_others_refused(transport):
    os.chmod(transport, 0o777)
    assert "can be changed by another user" in refusal(f"ClientTransportPlugin obfs4 exec {transport}\n")
    os.chmod(transport, 0o755)
    os.chmod(transport.parent, 0o777)
    assert "can be changed by another user" in refusal(f"ClientTransportPlugin obfs4 exec {transport}\n")


def test_read_back_compares_values_and_counts():
    entries = policy.check("UseBridges 1\nBridge 192.0.2.1:443\nBridge 192.0.2.2:443\n"
                           "MaxCircuitDirtiness 10 minutes\n")
    good = {"UseBridges": ["1"], "Bridge": ["192.0.2.2:443", "192.0.2.1:443"],
            "MaxCircuitDirtiness": ["600"]}
    assert policy.readback_problem(entries, good) is None
    assert "UseBridges" in policy.readback_problem(entries, {**good, "UseBridges": ["0"]})
    assert "Bridge" in policy.readback_problem(entries, {**good, "Bridge": ["192.0.2.1:443"]})
    assert "MaxCircuitDirtiness" in policy.readback_problem(entries, {**good, "MaxCircuitDirtiness": []})


def test_read_back_of_a_quoted_value_checks_presence():
    # tor unescapes "..." values (C escapes), so the written text is not what it reports.
    entries = policy.check('Socks5ProxyPassword "pass word#1"\n')
    assert entries[0].quoted and entries[0].value == '"pass word#1"'
    assert policy.readback_problem(entries, {"Socks5ProxyPassword": ["pass word#1"]}) is None
    assert policy.readback_problem(entries, {"Socks5ProxyPassword": []}) is not None


class _CachingController:
    """A stem Controller's two ways to GETCONF: `get_conf` answers from a cache holding a value
    tor never had; `msg` is tor's own answer (here: a raw reply, in tor's spelling)."""

    def __init__(self, reply: str):
        self.reply, self.sent = reply, []

    def get_conf(self, *args, **kwargs):
        return ["1"]

    def msg(self, command: str):
        from stem.response import ControlMessage

        self.sent.append(command)
        return ControlMessage.from_str(self.reply, normalize=True)


def test_read_back_asks_tor_with_one_raw_getconf_never_the_cache():
    entries = policy.check("UseBridges 0\nBridge 192.0.2.1:443\nBridge 192.0.2.2:443\n")
    ctl = _CachingController("250-USEBRIDGES=0\n250-Bridge=192.0.2.1:443\n"
                             "250 Bridge=192.0.2.2:443\n")
    assert policy.read_back(ctl, entries) is None
    assert ctl.sent == ["GETCONF UseBridges Bridge"]
    ctl = _CachingController("250-UseBridges=0\n250 Bridge\n")  # tor has no Bridge line
    assert "tor did not take Bridge as written (it reports nothing)" in policy.read_back(ctl, entries)
    assert policy.read_back(_CachingController("250 OK\n"), []) is None

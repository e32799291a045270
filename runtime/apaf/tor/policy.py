"""Which extra torrc lines the admin UI's editor accepts: the allowlist in torrc_policy.toml.

    entries = policy.check(text)        # raises TorrcRejected naming every refused line
    problem = policy.readback_problem(entries, values)   # after tor applied them
    problem = policy.read_back(controller, entries)      # the same, values asked of tor itself

The text is read the way tor reads a torrc (lines split on "\\n" only; tor's own
whitespace; "#" comments; the key ends at whitespace or "#"), so what is checked here is
what tor sees.  Refused outright, whatever the option: `%include` and every other `%`
directive (tor would read another file and echo its first line in an error), `\\`
line continuations and control characters (a second reading of one line), tor's `+`/`/`
prefixes, abbreviations (tor takes any prefix of an option name: `Socks` is SocksPort),
an option given twice unless tor keeps a list of it.  Messages name the line and the
option, never anything tor read from a file.
"""
from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from apaf.errors import TorrcRejected

POLICY_FILE = Path(__file__).with_name("torrc_policy.toml")
TOR_SPACE = " \t\r\n\v\f"  # tor's TOR_ISSPACE: Python's str.split() knows more spaces
GENERIC_REASON = ("it is not one of the settings the editor allows (bridges, entry/exit "
                  "nodes, padding, bandwidth, circuit timing, firewall and proxy settings; "
                  "see 'Tor settings' in the user manual)")
# Pluggable-transport clients tor may start for ClientTransportPlugin: the program runs
# with the runtime's rights, so only these names, installed where only their owner can
# swap them, with no arguments but logging ones (which log inside tor's data directory).
KNOWN_TRANSPORTS = {"lyrebird", "obfs4proxy", "snowflake-client", "webtunnel-client",
                    "conjure-client"}
TRANSPORT_ARGS = {"-enableLogging", "-unsafeLogging", "-logLevel", "ERROR", "WARN", "INFO",
                  "DEBUG"}


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    example: str
    repeat: bool = False
    readback: str = "same"
    check: str = ""


@dataclass(frozen=True)
class Entry:
    """One accepted line: the canonical option name and its value as tor will read it."""

    lineno: int
    name: str
    value: str
    quoted: bool = False  # tor unescapes a "quoted value": read back only its presence


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    """The allowlist, keyed by lower-cased option name."""
    return {name.lower(): Rule(name, **spec) for name, spec in _policy()["allow"].items()}


@lru_cache(maxsize=1)
def _policy() -> dict:
    return tomllib.loads(POLICY_FILE.read_text(encoding="utf-8"))


def check(text: str) -> list[Entry]:
    """The accepted entries of `text`; raise TorrcRejected listing every refused line."""
    entries, problems, seen = [], [], {}
    for lineno, line in enumerate(text.split("\n"), 1):
        try:
            entry = _parse_line(lineno, line)
        except ValueError as err:
            problems.append(f"line {lineno}: {err}")
            continue
        if entry is None:
            continue
        rule = rules()[entry.name.lower()]
        if not rule.repeat and entry.name in seen:
            problems.append(f"line {lineno}: {entry.name} is already set on line "
                            f"{seen[entry.name]}; keep one of them")
            continue
        seen.setdefault(entry.name, lineno)
        if rule.check:
            problem = VALUE_CHECKS[rule.check](entry.value)
            if problem:
                problems.append(f"line {lineno}: {entry.name} refused: {problem}")
                continue
        entries.append(entry)
    if problems:
        raise TorrcRejected("; ".join(problems))
    return entries


def _parse_line(lineno: int, line: str) -> Entry | None:
    # tor reads \r, \v and \f as spaces inside a line: refused rather than read twice.
    bad = next((c for c in line if (ord(c) < 32 and c != "\t") or ord(c) == 127), None)
    if bad is not None:
        raise ValueError(f"contains the control character U+{ord(bad):04X}; remove it")
    body = line.lstrip(TOR_SPACE)
    if body.rstrip(TOR_SPACE).endswith("\\"):
        raise ValueError("ends in '\\' (tor would join it with the next line); "
                         "write each setting on one line")
    if not body or body.startswith("#"):
        return None
    if body.startswith("%"):
        directive = re.split(f"[{re.escape(TOR_SPACE)}]", body, maxsplit=1)[0]
        raise ValueError(f"{directive} is refused: it makes tor read another file; "
                         "write the settings themselves")
    key = re.match(f"[^#{re.escape(TOR_SPACE)}]*", body).group(0)
    value = _strip_comment(body[len(key):]).strip(TOR_SPACE)
    if key[:1] in "+/":
        raise ValueError(f"{key}: tor's '+'/'/' prefixes are not supported here; "
                         f"write '{key[1:]} value' (to reset an option, delete its line)")
    rule = rules().get(key.lower())
    if rule is None:
        raise ValueError(refusal(key))
    return Entry(lineno, rule.name, value, quoted=value.startswith('"'))


def _strip_comment(rest: str) -> str:
    # tor ends a value at an unquoted "#"; a quoted value keeps it.
    if rest.lstrip(TOR_SPACE).startswith('"'):
        return rest
    return rest.split("#", 1)[0]


def refusal(key: str) -> str:
    """Why option `key` is refused: its group's reason, an abbreviation, or the generic one."""
    low = key.lower()
    groups = _policy()["refuse"].values()
    for group in groups:
        if (low in (n.lower() for n in group.get("names", []))
                or low.endswith(tuple(group.get("suffixes", ())))
                or low.startswith(tuple(group.get("prefixes", ())))):
            return f"{key} is refused: {group['reason']}"
    known = [n for g in groups for n in g.get("names", [])] + [r.name for r in rules().values()]
    expands = [n for n in known if n.lower().startswith(low)]
    if expands:
        return (f"'{key}' is refused: tor reads it as an abbreviation of an option of its "
                f"choosing (any prefix works: {', '.join(expands[:3])}, ...); write the full "
                "name of an allowed setting")
    import difflib  # only for a refusal's hint: not kept in the runtime's memory

    hint = difflib.get_close_matches(key, [r.name for r in rules().values()], n=1)
    more = f" (did you mean {hint[0]}?)" if hint else ""
    return f"{key} is refused: {GENERIC_REASON}{more}"


def _check_transport(value: str) -> str | None:
    """ClientTransportPlugin: only `<transports> exec <known PT program> [logging flags]`."""
    words = value.split()
    if any(c in value for c in "\"'\\"):
        return "write it without quotes or backslashes"
    if len(words) < 3 or words[1] != "exec":
        return ("only the 'TRANSPORTS exec /path/to/program' form is allowed (a proxy given "
                "as socks4/socks5 ADDRESS would be an unchecked network path)")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*", words[0]):
        return f"'{words[0]}' is not a comma-separated list of transport names"
    program = Path(words[2])
    if not program.is_absolute() or program.name not in KNOWN_TRANSPORTS:
        return (f"'{words[2]}' is not a known pluggable-transport client; give the absolute "
                f"path of one of {', '.join(sorted(KNOWN_TRANSPORTS))}")
    unknown = [a for a in words[3:] if a not in TRANSPORT_ARGS]
    if unknown:
        return (f"argument '{unknown[0]}' is not allowed; only logging flags "
                f"({' '.join(sorted(TRANSPORT_ARGS))}) may follow the program")
    try:
        st, dir_st = os.stat(program), os.stat(program.parent)
    except OSError:
        return f"{program} does not exist; install the transport first"
    if not stat.S_ISREG(st.st_mode) or not os.access(program, os.X_OK):
        return f"{program} is not an executable file"
    owners = {0, os.getuid()} if hasattr(os, "getuid") else None
    for path, s in ((program, st), (program.parent, dir_st)):
        if s.st_mode & 0o022 or (owners is not None and s.st_uid not in owners):
            return (f"{path} can be changed by another user (owner or group/other write "
                    "permission); install the transport in a system directory")
    return None


VALUE_CHECKS = {"transport": _check_transport}


def _squash(value: str) -> str:
    return "".join(value.split()).casefold()


def readback_problem(entries: list[Entry], values: dict[str, list[str]]) -> str | None:
    """Compare what tor reports (GETCONF name -> values) with the accepted entries."""
    for name in dict.fromkeys(e.name for e in entries):
        wanted = [e.value for e in entries if e.name == name]
        got = values.get(name, [])
        rule = rules()[name.lower()]
        if rule.readback == "normalized" or any(e.quoted for e in entries if e.name == name):
            ok = len(got) == (len(wanted) if rule.repeat else 1)
        else:
            ok = sorted(map(_squash, got)) == sorted(map(_squash, wanted))
        if not ok:
            return (f"tor did not take {name} as written (it reports "
                    f"{', '.join(got) or 'nothing'}); the previous configuration is back")
    return None


def read_back(ctl, entries: list[Entry]) -> str | None:
    """``readback_problem`` for the values the running tor reports now (``ctl``: stem's Controller).

    One raw GETCONF through ``ctl.msg``, never stem's ``get_conf``: that answers from a cache
    stem fills from tor's CONF_CHANGED events, so a tor that died right after LOADCONF would
    seem to confirm the edit.  A dead tor raises stem's ControllerError here.
    """
    from stem.response import convert  # loaded already: stem.control imports it

    names = list(dict.fromkeys(e.name for e in entries))
    if not names:
        return None
    reply = ctl.msg("GETCONF " + " ".join(names))
    convert("GETCONF", reply)  # a refusal raises stem's InvalidArguments or ProtocolError
    # tor answers with its own spelling of each name; the allowlist's may differ in case.
    got = {key.lower(): values for key, values in reply.entries.items()}
    return readback_problem(entries, {n: got.get(n.lower(), []) for n in names})

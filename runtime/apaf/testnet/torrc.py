"""The torrc lines of each kind of node in the private network.

Every function returns a list of lines; `render()` joins them into a file. The timing
options make the first consensus appear within ~10-20 s instead of ~5 minutes; the
`TestingDirAuthVote*` options give every relay the Guard, Exit and HSDir flags at once
so onion services work without waiting for uptime.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

# Voting every 10 s with 2 s vote and distribution delays: measured fastest that stays
# reliable with tor 0.4.9 on a loaded 2-core machine.
VOTING = [
    "TestingV3AuthInitialVotingInterval 10",
    "TestingV3AuthInitialVoteDelay 2",
    "TestingV3AuthInitialDistDelay 2",
    "V3AuthVotingInterval 10",
    "V3AuthVoteDelay 2",
    "V3AuthDistDelay 2",
]


# Every IPv4 address but 127.0.0.0/8, as the fewest CIDR blocks.
_NOT_LOOPBACK = sorted(ipaddress.ip_network("0.0.0.0/0").address_exclude(ipaddress.ip_network("127.0.0.0/8")))


@dataclass(frozen=True)
class Authority:
    """What other nodes need to know of one directory authority."""

    nickname: str
    or_port: int
    dir_port: int
    v3ident: str  # fingerprint of the authority identity key (tor-gencert)
    fingerprint: str  # fingerprint of the relay identity key (tor --list-fingerprint)

    def line(self) -> str:
        return (
            f"DirAuthority {self.nickname} orport={self.or_port} no-v2 "
            f"v3ident={self.v3ident} 127.0.0.1:{self.dir_port} {self.fingerprint}"
        )


def join_lines(authorities: list[Authority]) -> list[str]:
    """The lines any tor needs to be part of this network (client, relay or onion host)."""
    return [
        "TestingTorNetwork 1",
        *(a.line() for a in authorities),
        # Microdescriptor policy summaries only count ports open to every address, so an
        # exit to 127.0.0.0/8 looks like no exit at all; full descriptors carry the policy.
        "UseMicrodescriptors 0",
    ]


def common(datadir: Path, control_port: int) -> list[str]:
    """Lines every node of the network has: private data dir, control port, quiet logs."""
    return [
        f"DataDirectory {datadir}",
        f"ControlPort 127.0.0.1:{control_port}",
        "CookieAuthentication 1",
        f"Log notice file {datadir / 'notice.log'}",
        "SafeLogging 0",
        "ShutdownWaitLength 0",
        # GeoIP files cost ~35 MB and 0.7 s per process and mean nothing on loopback.
        'GeoIPFile ""',
        'GeoIPv6File ""',
    ]


def _server(nickname: str, or_port: int) -> list[str]:
    """What authorities and relays share: a name and an ORPort on 127.0.0.1, no SOCKS."""
    return [
        f"Nickname {nickname}",
        f"ContactInfo {nickname}@testnet.invalid",
        "Address 127.0.0.1",
        f"ORPort 127.0.0.1:{or_port}",
        "AssumeReachable 1",
        "SocksPort 0",
    ]


def relay(nickname: str, or_port: int) -> list[str]:
    """A relay that also exits to loopback, so clients can reach local test servers."""
    return [
        *_server(nickname, or_port),
        "ExitRelay 1",
        "ExitPolicyRejectPrivate 0",
        "ExitPolicyRejectLocalInterfaces 0",
        "ExitPolicy accept 127.0.0.0/8:*",
        # Reject every other IPv4 address with masked rules, then "accept *:*": the exit
        # still connects to 127.0.0.0/8 only, but clients asking for a host *name* (whose
        # address they do not know) see an exit that probably accepts and use it. With a
        # final "reject *:*" tor clients refuse every name ("No Tor server allows exit").
        "ExitPolicy " + ", ".join(f"reject {net}:*" for net in _NOT_LOOPBACK),
        "ExitPolicy accept *:*",
        "IPv6Exit 0",
    ]


def authority(nickname: str, or_port: int, dir_port: int) -> list[str]:
    """A v3 directory authority that votes every node Guard, Exit and HSDir."""
    return [
        *_server(nickname, or_port),
        f"DirPort 127.0.0.1:{dir_port}",
        "AuthoritativeDirectory 1",
        "V3AuthoritativeDirectory 1",
        "AuthDirMaxServersPerAddr 0",
        "ExitPolicy reject *:*",
        "TestingDirAuthVoteGuard *",
        "TestingDirAuthVoteExit *",
        "TestingDirAuthVoteHSDir *",
        # On loopback a circuit builds in tens of ms when the machine is idle, so tor learns
        # a build timeout of ~55-100 ms, and keeps it in its state file across restarts: a
        # restarted onion service then abandoned most circuits it built on a busy machine
        # (its rendezvous ones too: "Giving up building"), and a visitor waited for a
        # rendezvous that never came. Every tor of the network takes this floor from the
        # consensus; 2 s is about what tor learns on the real network. (No learning at all
        # would leave tor's 60 s: a visitor then waits minutes on a lost rendezvous.)
        "ConsensusParams cbtmintimeout=2000",
        *VOTING,
    ]


def client(socks_port: int) -> list[str]:
    return [
        f"SocksPort 127.0.0.1:{socks_port}",
        # Until it has timed ~100 circuits (the first ~4 minutes of a network) tor uses 60 s,
        # and waits 3 x that for the RENDEZVOUS2 after an INTRODUCE_ACK. Right after an onion
        # service restarts, an introduction point of its previous descriptor can still ACK
        # (its relay has not yet dropped the dead circuit): the visitor then waited 181 s,
        # and every retry joined that same circuit. 5 s (16 s for that wait) until learned.
        "CircuitBuildTimeout 5",
    ]


def render(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)

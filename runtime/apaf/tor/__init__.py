"""Tor supervision: find the binary, generate the torrc, run and restart tor, talk to it via stem.

`Tor` (apaf.tor.process) is the facade; `find_tor`/`child_env` (apaf.tor.binary) locate
tor and prepare its environment; `apaf.tor.torrc` renders the config and runs
`tor --verify-config`; `apaf.tor.policy` is the admin editor's allowlist (torrc_policy.toml).
"""
from apaf.tor.binary import child_env, find_tor
from apaf.tor.process import Tor

__all__ = ["Tor", "find_tor", "child_env"]

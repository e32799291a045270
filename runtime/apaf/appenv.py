"""The APAF_* environment the runtime gives each app process, read with errors that say the fix.

    APAF_SOCKS           "127.0.0.1:PORT" of the runtime's tor SOCKS port (also accepted:
                         "socks5://127.0.0.1:PORT"); the host must be an IP address
    APAF_ONION_ADDRESS   the app's own "<56 chars>.onion"
    APAF_STATUS_FILE     JSON the runtime rewrites atomically, shaped like `apaf status --json`

A missing variable raises `apaf.errors.NotUnderRuntime`: the code is not run by `apaf run`.
"""
from __future__ import annotations

import ipaddress
import os
import re

from apaf.errors import ConfigError, NotUnderRuntime

SOCKS = "APAF_SOCKS"
ONION = "APAF_ONION_ADDRESS"
STATUS_FILE = "APAF_STATUS_FILE"

_HINTS = {
    SOCKS: "or set it to a Tor SOCKS port yourself, e.g. APAF_SOCKS=127.0.0.1:9050 "
           "(a private test network's: `invoke testnet.status --json`, field \"socks\")",
    ONION: "the runtime sets it to the app's own <56 characters>.onion",
    STATUS_FILE: "the runtime sets it to the status JSON it keeps up to date",
}
_ONION_RE = re.compile(r"^[a-z2-7]{56}\.onion$")


def require(name: str) -> str:
    """The value of `name`, or NotUnderRuntime saying how to run the app."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise NotUnderRuntime(
            f"{name} is not set: this code expects to run as an APAF app; start it with "
            f"`apaf run APP_DIR` ({_HINTS.get(name, 'the runtime sets it')})"
        )
    return value


def socks_address() -> tuple[str, int]:
    """(ip, port) of the SOCKS port from APAF_SOCKS; a host name is refused (it needs DNS)."""
    value = require(SOCKS)
    rest = value
    if "://" in value:
        scheme, rest = value.split("://", 1)
        if scheme not in ("socks5", "socks5h"):
            raise ConfigError(f"{SOCKS}={value}: only socks5:// is supported; use 127.0.0.1:PORT")
    host, sep, port = rest.rstrip("/").rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not sep or not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"{SOCKS}={value}: expected IP:PORT such as 127.0.0.1:9050 (an IP address, "
            "not a host name, so that reaching Tor needs no DNS lookup)"
        ) from None
    return host, number


def onion_address() -> str:
    """The app's own onion address from APAF_ONION_ADDRESS, checked for shape."""
    value = require(ONION).lower()
    if not _ONION_RE.match(value):
        raise ConfigError(f"{ONION}={value}: not a v3 onion address (56 base32 characters + '.onion')")
    return value

"""Where pip downloads from, read from this machine: the wheels step's network settings.

`network_env(index_url="")` returns PIP_* (index, extra index, CA file, trusted
host) and proxy variables from the environment and `pip config list`, with
`index_url` overriding. Nothing here is written into the project: a build
uses whatever the machine it runs on is configured with.
"""
from __future__ import annotations

import os
import subprocess
import sys

_PIP_KEYS = ("index-url", "extra-index-url", "cert", "trusted-host", "client-cert", "timeout")
_PASS = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def pip_config() -> dict[str, str]:
    """{key: value} from `pip config list` (global/download/install sections), e.g. {"index-url": ...}."""
    try:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        section, _, name = key.rpartition(".")
        if name in _PIP_KEYS and section.split(":")[-1].lstrip(".") in ("global", "download", "install", ""):
            found.setdefault(name, value.strip().strip("'\""))
    return found


def network_env(index_url: str = "") -> dict[str, str]:
    env = {f"PIP_{k.upper().replace('-', '_')}": v for k, v in pip_config().items()}
    env.update({k: v for k, v in os.environ.items()
                if k in _PASS or (k.startswith("PIP_") and k[4:].lower().replace("_", "-") in _PIP_KEYS)})
    if index_url:
        env["PIP_INDEX_URL"] = index_url
    return env

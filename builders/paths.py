"""Where the farm keeps things: the checkout's data folders and the cache root.

The cache root is `$APAF_CACHE` when set, else `$XDG_CACHE_HOME/apaf`, else
`~/.cache/apaf`. Tarballs go in `<cache>/sources/`, step outputs in
`<cache>/steps/`, logs next to them.
"""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOLCHAINS = REPO / "toolchains"
RECIPES = TOOLCHAINS / "recipes"
TARGETS = TOOLCHAINS / "targets"
TOR_SRC = REPO / "tor-src"
SOURCE_MANIFEST = TOR_SRC / "sources.toml"
KEYS = TOR_SRC / "keys"


def cache_root() -> Path:
    if os.environ.get("APAF_CACHE"):
        return Path(os.environ["APAF_CACHE"]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "apaf"

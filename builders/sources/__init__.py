"""Pinned, verified sources: the manifest, its mirrors, verification and the store.

`fetch(names)` returns verified local files; nothing unverified is ever
returned, extracted or left where it could be mistaken for a good file.
"""
from .manifest import Source, load_manifest
from .store import SourceStore

__all__ = ["Source", "SourceStore", "load_manifest"]

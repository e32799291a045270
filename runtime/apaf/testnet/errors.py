"""Errors of the private Tor network."""
from __future__ import annotations

from apaf.errors import TorError


class TestnetError(TorError):
    """The private network could not be set up, started, or found (the message says why)."""

    __test__ = False  # not a pytest test class despite the name

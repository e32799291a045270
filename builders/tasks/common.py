"""Helpers shared by the task modules: error mapping and option parsing."""
from __future__ import annotations

import functools
import json
import sys

from invoke import Exit

from ..errors import FarmError


def farm_errors(fn):
    """Turn FarmError into invoke's Exit with the error's own exit code and message."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FarmError as exc:
            raise Exit(f"error: {exc.message}", code=exc.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("interrupted: running steps were stopped; nothing partial was cached", code=130) from None
    return wrapper


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")

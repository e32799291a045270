"""Import stem without the modules it imports at start but the runtime never uses (~2 MB).

stem.control imports every descriptor parser (stem.descriptor.*, which pulls in stem.client.*
and, when installed, `cryptography`) and the exit policy parser for calls apaf never makes:
get_server_descriptor, get_microdescriptor, get_exit_policy, the NS/NEWCONSENSUS/HS_DESC_CONTENT
events. stem.util.system imports multiprocessing, tarfile (with bz2 and lzma) and ctypes.util
for helpers apaf never calls (DaemonTask, is_tarfile, set_process_name). stem uses all of them
only inside functions, so while stem is imported each stands in as an empty module that
imports the real one the first time any of its attributes is asked for: a stem call that
needs one still works and pays for the import then. Afterwards the stand-ins leave
sys.modules, so any other `import` of those names gets the real module; only stem's own
references go through a stand-in.

importlib.util.LazyLoader cannot do this: every later `import` of a lazy module reads its
`__spec__` (the import system checks whether it is still initialising), which loads it, and
stem imports each of these from several of its modules.

Call `import_stem()` before the first `import stem` of the process (the runtime's modules that
use stem call it first); what is imported already stays as it is.
"""
from __future__ import annotations

import importlib
import sys
import types

# Imported at stem's import time, used only inside functions the runtime never calls.
UNUSED_STDLIB = ("multiprocessing", "tarfile", "ctypes.util")
UNUSED_STEM = ("stem.descriptor", "stem.descriptor.microdescriptor", "stem.descriptor.reader",
               "stem.descriptor.router_status_entry", "stem.descriptor.server_descriptor",
               "stem.exit_policy")

_placed: dict[str, types.ModuleType] = {}  # the stand-ins in sys.modules while stem is imported


class _StandIn(types.ModuleType):
    """A module not imported yet: the first attribute asked for imports the real one."""

    def __getattr__(self, attr: str):  # only called for what the stand-in itself lacks
        # Asked for while stem is still being imported (a stem that uses one at import
        # time): from then on every import is the real one, or this would find itself.
        _withdraw()
        return getattr(importlib.import_module(self.__name__), attr)


def import_stem() -> None:
    if "stem.control" in sys.modules:
        return
    try:
        _stand_in(UNUSED_STDLIB)
        import stem  # noqa: F401 -- its package imports stem.util.system
        if "stem.descriptor" not in sys.modules:
            _stand_in(UNUSED_STEM)
        import stem.control  # noqa: F401
    finally:
        _withdraw()


def _stand_in(names: tuple[str, ...]) -> None:
    for name in names:
        if name in sys.modules:
            continue
        module = _placed[name] = _StandIn(name)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            # `import a.b` binds `a` and then reaches b as a's attribute; the import system
            # sets that attribute only when it loads b itself.
            setattr(_placed.get(parent) or importlib.import_module(parent), child, module)


def _withdraw() -> None:
    while _placed:
        name, module = _placed.popitem()
        if sys.modules.get(name) is module:
            del sys.modules[name]

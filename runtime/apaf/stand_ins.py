"""Stand-ins: empty modules in sys.modules while a library is imported, for modules it imports
at start but uses only inside functions; the first attribute asked for imports the real one.

`stand_in(names)` places them; `withdraw()` takes every placed stand-in out of sys.modules
again, so any later `import` of those names gets the real module: only the library's own
references go through a stand-in. A stand-in may carry forwarders (`forward=`): functions of
the real module that a library takes by name at import (`from urllib.request import
getproxies`) and calls later; each imports the real module when called.

importlib.util.LazyLoader cannot do this: every later `import` of a lazy module reads its
`__spec__` (the import system checks whether it is still initialising), which loads it, and
libraries import these modules from several of their own.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

_placed: dict[str, types.ModuleType] = {}  # the stand-ins in sys.modules now


class StandIn(types.ModuleType):
    """A module not imported yet: the first attribute asked for imports the real one."""

    def __init__(self, name: str, forward: tuple[str, ...], path: list[str] | None):
        super().__init__(name)
        for function in forward:
            setattr(self, function, _forwarder(name, function))
        self._forwards, self._path = bool(forward), path

    def __getattr__(self, attr: str):  # only called for what the stand-in itself lacks
        if attr == "__path__" and self._forwards:
            # `from x import f` first asks whether x is a package (to import f if it is a
            # submodule): answered from x's spec, so a forwarded f keeps x unloaded, and a
            # submodule of x is still found.
            if self._path is None:
                raise AttributeError(attr)
            return self._path
        # Asked for while the library is still being imported (one that uses it at import
        # time): from then on every import is the real one, or this would find itself.
        withdraw()
        return getattr(importlib.import_module(self.__name__), attr)


def _forwarder(module: str, name: str):
    def call(*args, **kwargs):
        withdraw()  # called while the library is being imported: the real module all the same
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def stand_in(names: tuple[str, ...], forward: tuple[str, ...] = ()) -> None:
    """Place a stand-in for each of `names` not imported yet, with forwarders for `forward`."""
    for name in names:
        if name in sys.modules:
            continue
        path = None
        if forward:  # only then asked for (a dotted name's parent is imported for it)
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue  # not there: the library's own import says so, as without us
            path = spec.submodule_search_locations
        module = _placed[name] = StandIn(name, forward, path)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            # `import a.b` binds `a` and then reaches b as a's attribute; the import system
            # sets that attribute only when it loads b itself.
            setattr(_placed.get(parent) or importlib.import_module(parent), child, module)


def withdraw() -> None:
    while _placed:
        name, module = _placed.popitem()
        if sys.modules.get(name) is module:
            del sys.modules[name]

"""Import stem without the modules it imports at start but the runtime never uses (~2 MB).

stem.control imports every descriptor parser (stem.descriptor.*, which pulls in stem.client.*
and, when installed, `cryptography`) and the exit policy parser for calls apaf never makes:
get_server_descriptor, get_microdescriptor, get_exit_policy, the NS/NEWCONSENSUS/HS_DESC_CONTENT
events. stem.util.system imports multiprocessing, tarfile (with bz2 and lzma) and ctypes.util
for helpers apaf never calls (DaemonTask, is_tarfile, set_process_name). stem uses all of them
only inside functions, so while stem is imported each stands in (apaf/stand_ins.py) as an empty
module that imports the real one the first time any of its attributes is asked for: a stem
call that needs one still works and pays for the import then. stem.util.connection's
urllib.request (with http.client: ~0.6 MB) is for a download helper apaf never calls.

Call `import_stem()` before the first `import stem` of the process (the runtime's modules that
use stem call it first); what is imported already stays as it is.
"""
from __future__ import annotations

import sys

from apaf.stand_ins import stand_in, withdraw

# Imported at stem's import time, used only inside functions the runtime never calls.
UNUSED_STDLIB = ("multiprocessing", "tarfile", "ctypes.util", "urllib.request")
UNUSED_STEM = ("stem.descriptor", "stem.descriptor.microdescriptor", "stem.descriptor.reader",
               "stem.descriptor.router_status_entry", "stem.descriptor.server_descriptor",
               "stem.exit_policy")


def import_stem() -> None:
    if "stem.control" in sys.modules:
        return
    try:
        stand_in(UNUSED_STDLIB)
        import stem  # noqa: F401 -- its package imports stem.util.system
        if "stem.descriptor" not in sys.modules:
            stand_in(UNUSED_STEM)
        import stem.control  # noqa: F401
    finally:
        withdraw()


"""`apaf run` imports stem without the modules stem loads at import but the runtime never uses
(apaf/stem_import.py: ~2 MB of the runtime's memory), and stem still does all it did: the
runtime's own event, and on demand the parsers and helpers it was spared."""
import json
import subprocess
import sys

# Imported in `apaf run`'s order (apaf.cli.main, then the runtime, then the admin UI), checked,
# then used.
PROBE = r"""
import io, json, sys
from apaf.stem_import import import_stem
import_stem()
import stem.util.log
import apaf.runtime, apaf.admin
loaded = sorted(sys.modules)

import ctypes, multiprocessing, stem.response, stem.socket, stem.util.system, stem.util.connection

def event(raw):
    msg = stem.socket.recv_message(io.BytesIO(raw.replace(b"\n", b"\r\n")))
    stem.response.convert("EVENT", msg)
    return msg

hs_desc = event(b"650 HS_DESC UPLOADED bwupnhkcqzg5g4monyjaqmaffvhqo2ljydgvaibsnvthzz7wmczjadad UNKNOWN "
                b"$67B2BDA4264D8A189D9270E28B1D30A262838243~relay1 b3oeducbhjmbqmgw2i3jtz4fekkrinwj\n")
spared_before_ns = "stem.descriptor" not in sys.modules
ns = event(b"650+NS\nr whnetz dbBxYcJriTTrcxsuy4PUZcMRwCA VStM7KAIH/mXXoGDUpoGB1OXufg "
           b"2012-12-02 21:03:56 141.70.120.13 9001 9030\ns Fast Stable Valid\n.\n650 OK\n")
print(json.dumps({
    "loaded": loaded,
    "hs_desc": [hs_desc.action, hs_desc.address],
    "spared_before_ns": spared_before_ns,
    "ns": [type(d).__name__ + " " + d.nickname for d in ns.desc],
    "exit_policy": str(stem.exit_policy.ExitPolicy("accept *:80", "reject *:*")),
    "cpu_count": stem.util.system.multiprocessing.cpu_count(),
    "libc": ctypes.util.find_library("c"),
    "urlopen": stem.util.connection.urllib.urlopen.__module__,
    "multiprocessing_is_real": type(multiprocessing).__name__ == "module"
                               and hasattr(multiprocessing, "Process"),
}))
"""
SPARED = ("stem.descriptor", "stem.client", "stem.exit_policy", "multiprocessing", "tarfile", "ctypes.util", "cryptography",
          "urllib.request", "http.client")


def test_runtime_imports_stem_without_its_unused_modules_and_stem_still_works():
    got = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                                    text=True).stdout)
    back = sorted(m for m in got["loaded"] if m.startswith(SPARED))
    assert not back, f"the runtime imports modules it never uses again (apaf/stem_import.py): {back}"
    assert "stem.control" in got["loaded"] and "stem.response.events" in got["loaded"]
    # The event the runtime listens to, with none of the spared modules.
    assert got["hs_desc"] == ["UPLOADED", "bwupnhkcqzg5g4monyjaqmaffvhqo2ljydgvaibsnvthzz7wmczjadad"]
    assert got["spared_before_ns"]
    # A call that does need a spared module imports it then.
    assert got["ns"] == ["RouterStatusEntryV3 whnetz"]
    assert got["exit_policy"] == "accept *:80, reject *:*"
    assert got["cpu_count"] >= 1 and got["libc"] and got["urlopen"] == "urllib.request"
    assert got["multiprocessing_is_real"], "an `import multiprocessing` after stem's gets the real module"


# A stand-in used while stem is still being imported (a later stem might): it imports the real
# module then, instead of finding itself in sys.modules again.
EARLY = r"""
import json, sys
from apaf.stand_ins import stand_in
stand_in(("tarfile",))
import tarfile
stand_in = tarfile
found = stand_in.is_tarfile(sys.argv[1])
real = sys.modules["tarfile"]
print(json.dumps({"found": found, "real": real is not stand_in and hasattr(real, "TarFile")}))
"""


def test_a_stand_in_used_before_stem_is_imported_loads_the_real_module(tmp_path):
    import tarfile

    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w"):
        pass
    got = json.loads(subprocess.run([sys.executable, "-c", EARLY, str(archive)], check=True,
                                    capture_output=True, text=True).stdout)
    assert got == {"found": True, "real": True}

"""kill -9 at random moments while keys and settings are being written never loses or corrupts them.

A focused writer process runs the runtime's own persistence code (atomic_write of an onion
key exactly as apaf.onion does, Settings.save) in a tight loop; we SIGKILL it 120 times at
random moments and check every time that both files are present and valid. ~15 s.
"""
import json
import random
import signal
import subprocess
import sys

from apaf.onion import read_key
from apaf.paths import Layout
from apaf.settings import Settings

WRITER = r"""
import base64, os, sys
from pathlib import Path
from apaf.fsutil import atomic_write
from apaf.settings import Settings
keys, settings_path = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
while True:
    blob = base64.b64encode(os.urandom(64)).decode()
    atomic_write(keys / "site.key", f"ED25519-V3:{blob}\n", mode=0o600)  # as apaf.onion does
    Settings(enabled_apps=["site"] * (n % 7), known_apps=["site"], allow_tor2web=bool(n % 2)).save(settings_path)
    n += 1
    if n == 1:
        print("ready", flush=True)
"""

KILLS = 120


def test_kill_9_while_writing_never_leaves_a_missing_or_corrupt_file(tmp_path):
    layout = Layout(tmp_path / "data")
    layout.prepare()
    rng = random.Random(1234)
    for i in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(layout.keys), str(layout.settings)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n", f"writer {i} did not start"
        # Random moment within the next few write cycles (one cycle is ~1-3 ms).
        subprocess.run(["sleep", f"{rng.uniform(0, 0.03):.4f}"])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert read_key(layout.keys / "site.key") is not None, f"key missing after kill {i}"
        s = Settings.load(layout.settings)  # raises ConfigError if corrupt
        assert s.known_apps == ["site"], f"settings wrong after kill {i}: {s}"
        json.loads(layout.settings.read_text())
    # Temp files left behind prove kills landed mid-write; a restart clears them.
    stale = len(list(layout.keys.glob(".*.tmp"))) + len(list(layout.root.glob(".*.tmp")))
    print(f"{KILLS} kills, {stale} interrupted mid-write")
    layout.prepare()
    assert sorted(p.name for p in layout.keys.iterdir()) == ["site.key"]

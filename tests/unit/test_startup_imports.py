"""What `apaf run` and an app process import at start (memory and start-up time), and the
start-up milestones file the runtime benchmark reads (apaf.timeline)."""
import json
import subprocess
import sys

from apaf import timeline

# One interpreter for both (a second costs the suite ~0.2 s): the app process's modules
# first, then the runtime's (which include the app process's: none of them is checked twice).
PROBE = """
import json, sys
import apaf.apps.launch, apaf.staticsite
app = sorted(sys.modules)
import apaf.runtime
print(json.dumps([app, sorted(sys.modules)]))
"""


def test_static_site_process_and_runtime_import_only_what_they_use():
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    app, runtime = map(set, json.loads(out))
    assert not {m for m in app if m.split(".")[0] in ("aiohttp", "stem", "jinja2")}, \
        "the static-site app process must not import aiohttp, stem or jinja2 (memory)"
    assert "html" not in app, "the static site escapes its error pages without html's entity table"
    assert "apaf.apps.process" not in app, "an app process needs no supervisor code"
    assert "aiohttp" not in runtime, "the runtime imports aiohttp with the admin UI, after tor is launched"
    assert "cryptography" not in runtime, "stem's descriptor crypto is never used by the runtime"


def test_timeline_keeps_the_first_time_of_each_milestone(tmp_path, monkeypatch):
    path = tmp_path / "timeline"
    monkeypatch.setenv(timeline.ENV_VAR, str(path))
    for name in ("tor-launched", "uploaded static-site", "tor-launched"):
        timeline.mark(name)
    marks = timeline.read(path)
    assert list(marks) == ["tor-launched", "uploaded static-site"]
    assert marks["tor-launched"] <= marks["uploaded static-site"]
    monkeypatch.delenv(timeline.ENV_VAR)
    timeline.mark("admin-ready")  # unset: nothing written
    assert "admin-ready" not in timeline.read(path)

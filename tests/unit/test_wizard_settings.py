"""What the first-run wizard persists: the runtime's tor2web choice (settings.json) and
"wizard finished" (admin/first-run-done), both 0600 and written atomically."""
from __future__ import annotations

import stat

from apaf.admin.firstrun import FirstRun
from apaf.runtime import Runtime
from apaf.settings import Settings

from fixtures.runtime import ENVECHO


async def test_tor2web_choice_is_saved_and_survives_a_restart(tmp_path):
    rt = Runtime([ENVECHO], tmp_path, tor_binary="/bin/true")   # tor never started here
    rt.layout.prepare()
    assert rt.tor2web_allowed() is False
    await rt.set_tor2web(True)
    path = tmp_path / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings.load(path).allow_tor2web is True
    again = Runtime([ENVECHO], tmp_path, tor_binary="/bin/true")
    again.settings = Settings.load(path)             # what start() reads
    assert again.tor2web_allowed() is True
    await rt.set_tor2web(False)
    assert Settings.load(path).allow_tor2web is False


def test_first_run_done_is_a_private_file(tmp_path):
    first = FirstRun(tmp_path)
    assert not first.done()
    first.finish()
    assert first.done() and FirstRun(tmp_path).done()
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in first.path.parent.iterdir()] == ["first-run-done"]   # no temp left

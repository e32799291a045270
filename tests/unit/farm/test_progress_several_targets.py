"""One live table shared by several targets' builds: rows stay apart and it lives until the last build ends."""
from __future__ import annotations

import io

from rich.console import Console

from builders.progress import LiveProgress, PlainProgress, for_target


class _Step:
    def __init__(self, sid):
        self.id = sid


def _live():
    p = LiveProgress()
    p.console = Console(file=io.StringIO(), force_terminal=True, width=120)
    p.live.console = p.console
    return p


def test_two_targets_keep_their_own_rows_and_the_table_lives_until_both_end():
    shared = _live()
    a, b = for_target(shared, "linux-x86_64", several=True), for_target(shared, "macos-arm64", several=True)
    a.start([_Step("tor@musl"), _Step("cpython@gnu")])
    b.start([_Step("tor@musl")])
    a.step_state("tor@musl", "built", "12s")
    b.step_state("tor@musl", "building")
    assert shared.states["linux-x86_64/tor@musl"][0] == "built"
    assert shared.states["macos-arm64/tor@musl"][0] == "building"
    assert len(shared.states) == 3
    a.stop()                                  # the first target finishes
    assert shared.live.is_started
    b.step_line("tor@musl", "compiling…")
    assert list(shared.tails["macos-arm64/tor@musl"]) == ["compiling…"]
    b.stop()
    assert not shared.live.is_started


def test_one_target_uses_the_display_as_it_is():
    shared = PlainProgress(stream=io.StringIO())
    assert for_target(shared, "linux-x86_64", several=False) is shared


def test_plain_lines_name_the_target():
    out = io.StringIO()
    shared = PlainProgress(stream=out)
    view = for_target(shared, "macos-arm64", several=True)
    view.start([_Step("zlib@clang")])
    view.step_state("zlib@clang", "built", "3s")
    view.stop()
    assert "macos-arm64/zlib@clang: built 3s" in out.getvalue()

"""Whether the owner has finished the first-run wizard (views/wizard.py).

A file, ``<data_dir>/admin/first-run-done`` (0600, in the 0700 admin folder, written
atomically), is there once they have: the wizard is then never offered again, even
after a new password is made (deleting ``admin/password`` to recover access shows
only the new password).  Deleting the file offers the wizard again.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from apaf.fsutil import atomic_write, ensure_private_dir


class FirstRun:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "admin" / "first-run-done"

    def done(self) -> bool:
        return self.path.is_file()

    def finish(self) -> None:
        ensure_private_dir(self.path.parent)
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        atomic_write(self.path, f"first-run wizard finished {stamp}\n", mode=0o600)

"""Compare what several builders made, artifact by artifact; diffoscope says how two differ.

diffoscope (pinned from PyPI in ci/requirements.txt) runs offline and uses whichever of
its helper programs are installed (ar, tar, cpio, readelf...); without them it still
compares bytes and says which helper would have shown more.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..sources.verify import sha256_of

REPORT_SUFFIX = ".diffoscope.txt"


def digests(folders: dict[str, dict[str, Path]]) -> dict[str, dict[str, str]]:
    """{artifact name: {builder: sha256}} from {builder: {artifact name: file}}."""
    out: dict[str, dict[str, str]] = {}
    for builder, files in folders.items():
        for name, path in files.items():
            out.setdefault(name, {})[builder] = sha256_of(path)
    return out


def diffoscope(a: Path, b: Path, report: Path, timeout: int = 600) -> Path:
    """Write diffoscope's text report of a vs b to report; returns it (a note if diffoscope is missing)."""
    exe = shutil.which("diffoscope") or str(Path(sys.executable).parent / "diffoscope")
    if not Path(exe).exists():
        report.write_text(f"diffoscope is not installed (pip install diffoscope); {a} and {b} differ\n")
        return report
    try:
        # --timeout: diffoscope stops recursing into nested archives after half the time, so a
        # large bundle still gets a (shallower) report instead of none.
        subprocess.run([exe, "--no-progress", "--timeout", str(timeout // 2), "--text", str(report), str(a), str(b)],
                       capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        report.write_text(f"diffoscope did not finish in {timeout} s comparing {a} and {b}; they differ\n")
    if not report.exists():
        report.write_text(f"{a} and {b} differ (diffoscope wrote no report)\n")
    return report

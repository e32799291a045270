"""`apaf run` refuses a data directory that another account made first, before writing anything.

The attack (reproduced by hand): another user made /tmp/apaf-shared (mode 0777) and the
owner ran `apaf run --data-dir /tmp/apaf-shared`. apaf chmodded it 0700, but the other
user still owned it: they chmodded it back and could rename keys/ away and put a keys/
of their own there, holding onion keys they know, for the next start. The real CLI, ~1 s.
"""
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "static-site"
OTHER_UID = 65534  # nobody


def test_a_data_dir_owned_by_another_account_is_refused(tmp_path):
    planted = tmp_path / "apaf-shared"
    planted.mkdir()
    os.chown(planted, OTHER_UID, OTHER_UID)
    os.chmod(planted, 0o777)
    # /bin/false as tor: without the check the run would get as far as starting tor.
    run = subprocess.run([sys.executable, "-m", "apaf.cli", "run", "--no-browser", "--no-admin",
                          "--tor", "/bin/false", "--data-dir", str(planted), str(EXAMPLE)],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert f"{planted} belongs to another user (uid {OTHER_UID})" in run.stderr, run.stderr
    assert list(planted.iterdir()) == []                     # no keys, settings or tor state in it
    assert planted.stat().st_uid == OTHER_UID

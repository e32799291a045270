"""Key material of the private network, made offline before any daemon starts.

Directory authorities need their v3 identity fingerprint (from `tor-gencert`) and their
relay fingerprint (from `tor --list-fingerprint`) in every node's `DirAuthority` line, so
both are generated first; tor then finds the keys in `<datadir>/keys/` when it starts.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from apaf.testnet.errors import TestnetError

_HEX40 = re.compile(r"^[0-9A-F]{40}$")


def empty_file(workdir: Path) -> Path:
    """An empty torrc, used as `--defaults-torrc` so the system /etc/tor files never apply."""
    path = workdir / "empty.torrc"
    if not path.exists():
        path.write_text("")
    return path


def _run(args: list[str], **kw) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, **kw)
    except FileNotFoundError as err:
        raise TestnetError(f"{args[0]} not found: install Debian's tor package (apt-get install tor)") from err
    if done.returncode != 0:
        raise TestnetError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def authority_v3ident(tor_binary: str, datadir: Path, dir_port: int) -> str:
    """Create the authority identity/signing keys and certificate; return the v3 fingerprint."""
    keys = datadir / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert = keys / "authority_certificate"
    if not cert.exists():
        gencert = shutil.which("tor-gencert", path=str(Path(tor_binary).parent)) or "tor-gencert"
        _run(
            [
                gencert, "--create-identity-key", "--passphrase-fd", "0", "-m", "12",
                "-a", f"127.0.0.1:{dir_port}",
                "-i", str(keys / "authority_identity_key"),
                "-s", str(keys / "authority_signing_key"),
                "-c", str(cert),
            ],
            input="\n",
            cwd=keys,
        )
    match = re.search(r"^fingerprint ([0-9A-F]{40})$", cert.read_text(), re.M)
    if not match:
        raise TestnetError(f"{cert}: no 'fingerprint' line; delete {datadir} and start again")
    return match.group(1)


def relay_fingerprint(tor_binary: str, workdir: Path, datadir: Path, nickname: str) -> str:
    """Create (or read) a node's relay identity key; return its RSA fingerprint."""
    out = _run(
        [
            tor_binary, "--list-fingerprint", "--quiet",
            "--defaults-torrc", str(empty_file(workdir)), "-f", str(empty_file(workdir)),
            "--DataDirectory", str(datadir), "--Nickname", nickname,
            "--ORPort", "127.0.0.1:1", "--GeoIPFile", "", "--GeoIPv6File", "",
        ]
    )
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == nickname:
            fingerprint = parts[1].replace(" ", "")
            if _HEX40.match(fingerprint):
                return fingerprint
    raise TestnetError(f"tor --list-fingerprint printed no fingerprint for {nickname}:\n{out}")

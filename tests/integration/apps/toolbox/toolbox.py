"""Test app: uses the bundled gpg and 7zz through apaf.binary(), as an app developer would.

At start, in its data dir: a passphrase-less RSA key, a detached signature of a file
(verified, then verified again after the file is tampered with), and a .7z of the file
(listed, extracted and compared); then it tries to run a program it does not list. Each result, with the program's output, is written to
result.json and served on GET /; `denied` records what apaf.binary() says about a name the
manifest does not list.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

from aiohttp import web

import apaf

# No Passphrase line: GnuPG 1.4 then stores the key unprotected (it has no %no-protection).
KEY_PARAMS = """Key-Type: RSA
Key-Length: 2048
Name-Real: Toolbox Test
Name-Email: toolbox@example.invalid
Expire-Date: 0
%commit
"""


def run(*argv, stdin=None):
    proc = subprocess.run([str(a) for a in argv], input=stdin, capture_output=True, text=True, timeout=120)
    return {"argv": [os.path.basename(str(argv[0]))] + [str(a) for a in argv[1:]],
            "rc": proc.returncode, "out": proc.stdout + proc.stderr}


def exercise(data: Path) -> dict:
    gpg, sevenzip = apaf.binary("gpg"), apaf.binary("7zz")
    home = data / "gnupg"
    home.mkdir(mode=0o700, exist_ok=True)
    g = [gpg, "--homedir", home, "--batch", "--no-tty"]
    doc = data / "document.txt"
    doc.write_text("signed by the bundled gpg\n" * 100)
    out = {"paths": {"gpg": str(gpg), "7zz": str(sevenzip)}}
    out["genkey"] = run(*g, "--gen-key", stdin=KEY_PARAMS)
    out["export"] = run(*g, "--armor", "--output", data / "public.asc", "--export", "toolbox@example.invalid")
    out["sign"] = run(*g, "--yes", "--detach-sign", "--output", data / "document.sig", doc)
    out["verify"] = run(*g, "--verify", data / "document.sig", doc)
    tampered = data / "tampered.txt"
    tampered.write_text(doc.read_text() + "one more line\n")
    out["verify_tampered"] = run(*g, "--verify", data / "document.sig", tampered)
    archive = data / "document.7z"
    archive.unlink(missing_ok=True)
    out["compress"] = run(sevenzip, "a", "-bd", archive, doc)
    out["list"] = run(sevenzip, "l", archive)
    out["extract"] = run(sevenzip, "x", "-bd", "-y", f"-o{data / 'extracted'}", archive)
    out["roundtrip"] = (data / "extracted" / "document.txt").read_bytes() == doc.read_bytes()
    # A program the manifest does not list (the bundle's own executable): the sandbox refuses it.
    try:
        out["unlisted"] = run(sys.executable, "--version")
    except OSError as exc:
        out["unlisted"] = {"refused": f"{type(exc).__name__}: {exc}"}
    return out


def main():
    data = Path(os.environ["APAF_DATA_DIR"])
    try:
        result = exercise(data)
    except Exception as exc:  # the test reads why, instead of a silent crash loop
        result = {"error": f"{type(exc).__name__}: {exc}"}
    (data / "result.json").write_text(json.dumps(result, indent=1))

    async def show(request):
        return web.json_response(result)

    app = web.Application()
    app.router.add_get("/", show)
    return app

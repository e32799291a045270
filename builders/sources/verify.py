"""Check a downloaded file against its pin: sha256 first, then the OpenPGP signature.

Signatures are checked with python-gnupg in a throwaway GnuPG home holding
only the one key the manifest names, and the signer's fingerprint must be
the pinned one: a valid signature by any other key is refused. A signature
by a revoked key is refused; one by an expired key is accepted (it was made
while the key was current, which is what an old release tarball shows).
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from ..errors import SignatureError, ToolMissing, VerificationError
from .manifest import Signature

REVOKED = "signing key was revoked"   # python-gnupg's key_status after gpg's REVKEYSIG


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_sha256(path: Path, expected: str, *, fix: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        size = path.stat().st_size
        raise VerificationError(
            f"{path.name}: sha256 mismatch (size {size} bytes)\n"
            f"  expected {expected}\n  actual   {actual}\n"
            "The file is truncated, corrupted or tampered with and was not used. "
            f"{fix}"
        )


def check_signature(path: Path, signature_file: Path | None, sig: Signature) -> str:
    """Verify `signature_file` over `path`; returns the signer's fingerprint."""
    if not sig.required:
        return ""
    if signature_file is None or not signature_file.is_file():
        raise SignatureError(
            f"{path.name}: the required OpenPGP signature ({path.name}.asc) is missing; "
            "nothing was used. Fetch from a mirror that serves it, or if the upstream "
            "stopped signing, change the manifest entry to \"unverified: <reason>\"."
        )
    import gnupg   # only a fetch checks signatures; every other farm command skips the import
    with tempfile.TemporaryDirectory(prefix="apaf-gpg-") as home:
        try:
            gpg = gnupg.GPG(gnupghome=home)
        except (OSError, ValueError) as exc:
            raise ToolMissing(f"gpg is needed to check signatures ({exc}); apt-get install gnupg") from exc
        imported = gpg.import_keys(sig.key.read_text())
        if not imported.fingerprints:
            raise SignatureError(f"{sig.key}: no OpenPGP public key could be imported from it")
        with open(signature_file, "rb") as f:
            result = gpg.verify_file(f, str(path))
        signer = (result.pubkey_fingerprint or result.fingerprint or "").upper()
        # Not `result.valid`: gpg ends with "signature valid" (VALIDSIG) both after an
        # expired key (EXPKEYSIG), which still proves who signed a tarball made while
        # the key was current, and after a revoked one (REVKEYSIG), which proves
        # nothing: its owner disowned it, perhaps because it leaked. So the revocation
        # is checked on its own.
        if result.key_status == REVOKED or any(p.get("status") == REVOKED for p in result.problems):
            raise SignatureError(
                f"{path.name}: signed by {signer or result.key_id}, a key its owner has REVOKED "
                f"({sig.key} carries the revocation); the file was not used. Find out from the "
                "upstream which key signs its releases now, put that key in tor-src/keys/ and its "
                "fingerprint in the manifest entry, then fetch again."
            )
        if result.status != "signature valid" or not signer:
            raise SignatureError(
                f"{path.name}: BAD OpenPGP signature ({result.status or 'no valid signature'}); "
                "the file was not used. It may have been tampered with or truncated: "
                "delete it and fetch again (`ci/farm sources.fetch`), or try another mirror."
            )
        if signer != sig.fingerprint:
            raise SignatureError(
                f"{path.name}: signed by {signer}, but the manifest pins {sig.fingerprint}; not used"
            )
        return signer

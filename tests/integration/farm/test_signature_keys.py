"""The farm's signature check with real gpg and throwaway keys: good, bad, revoked and expired signers.

Each key is made with real gpg in a temporary GnuPG home, exported the way a
release engineer would put it in tor-src/keys/, and the tarball is checked
through `check_signature`, the code path every fetch and re-pin uses.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from builders.errors import SignatureError
from builders.sources.manifest import Signature
from builders.sources.verify import check_signature


class Signer:
    """A throwaway OpenPGP key in its own GnuPG home, driven through the gpg command line."""

    def __init__(self, home: Path, uid: str, expire: str = "1y"):
        home.mkdir(mode=0o700)
        self.home = home
        self.gpg("--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", expire)
        out = self.gpg("--with-colons", "--list-keys").stdout
        self.fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))

    def gpg(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--homedir",
                               str(self.home), *args], check=True, capture_output=True, text=True, **kw)

    def sign(self, path: Path, **kw) -> Path:
        asc = path.with_name(path.name + ".asc")
        self.gpg("--local-user", self.fpr, "--armor", "--detach-sign", "--output", str(asc), str(path), **kw)
        return asc

    def export(self, dest: Path) -> Signature:
        dest.write_text(self.gpg("--armor", "--export", self.fpr).stdout)
        return Signature(key=dest, fingerprint=self.fpr)

    def revoke(self) -> None:
        """Apply the revocation certificate gpg made at key generation (as its owner would publish it)."""
        cert = (self.home / "openpgp-revocs.d" / f"{self.fpr}.rev").read_text()
        # gpg guards the certificate with a leading ':' so it cannot be imported by accident.
        self.gpg("--import", input=cert.replace("\n:-----BEGIN", "\n-----BEGIN"))

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], capture_output=True)


@pytest.fixture
def signer(tmp_path):
    s = Signer(tmp_path / "gnupg", "APAF upstream test <upstream-test@example.org>")
    yield s
    s.close()


@pytest.fixture
def tarball(tmp_path) -> Path:
    path = tmp_path / "thing-1.0.tar.gz"
    path.write_bytes(b"pretend tarball " * 1000)
    return path


def test_a_good_signature_by_the_pinned_key_is_accepted(signer, tarball, tmp_path):
    asc = signer.sign(tarball)
    assert check_signature(tarball, asc, signer.export(tmp_path / "key.asc")) == signer.fpr


def test_a_signature_over_other_bytes_is_refused(signer, tarball, tmp_path):
    asc = signer.sign(tarball)
    tarball.write_bytes(tarball.read_bytes() + b"one more byte")
    with pytest.raises(SignatureError, match="BAD OpenPGP signature"):
        check_signature(tarball, asc, signer.export(tmp_path / "key.asc"))


def test_a_signature_by_a_revoked_key_is_refused(signer, tarball, tmp_path):
    """gpg says "Good signature" here and python-gnupg ends with status "signature valid"."""
    asc = signer.sign(tarball)
    signer.revoke()
    pinned = signer.export(tmp_path / "key.asc")       # the published key now carries its revocation
    verify = subprocess.run(["gpg", "--batch", "--homedir", str(signer.home), "--status-fd", "1", "--verify",
                             str(asc), str(tarball)], capture_output=True, text=True)
    assert "REVKEYSIG" in verify.stdout and "VALIDSIG" in verify.stdout, verify.stdout
    with pytest.raises(SignatureError) as err:
        check_signature(tarball, asc, pinned)
    msg = str(err.value)
    assert "REVOKED" in msg and signer.fpr in msg
    assert tarball.name in msg and "not used" in msg


def test_a_signature_by_a_key_that_has_since_expired_is_accepted(tmp_path, tarball):
    """Expiry is not revocation: a tarball signed while the key was current stays verifiable."""
    made = time.monotonic()
    # Long enough to make the key and sign with it on a busy machine, then wait for it to lapse.
    s = Signer(tmp_path / "gnupg", "APAF short-lived <short@example.org>", expire="seconds=10")
    try:
        asc = s.sign(tarball)
        pinned = s.export(tmp_path / "key.asc")
        time.sleep(max(0.0, made + 11 - time.monotonic()))
        verify = subprocess.run(["gpg", "--batch", "--homedir", str(s.home), "--status-fd", "1", "--verify",
                                 str(asc), str(tarball)], capture_output=True, text=True)
        assert "EXPKEYSIG" in verify.stdout, verify.stdout
        assert check_signature(tarball, asc, pinned) == s.fpr
    finally:
        s.close()


def test_a_signature_by_a_revoked_signing_subkey_is_refused(tmp_path, tarball):
    """Upstreams often sign with a subkey; revoking only that subkey must be enough."""
    s = Signer(tmp_path / "gnupg", "APAF subkey signer <subkey@example.org>")
    try:
        s.gpg("--passphrase", "", "--quick-add-key", s.fpr, "ed25519", "sign", "1y")
        asc = tarball.with_name(tarball.name + ".asc")
        s.gpg("--armor", "--detach-sign", "--output", str(asc), str(tarball))   # gpg picks the newest subkey
        assert check_signature(tarball, asc, s.export(tmp_path / "before.asc")) == s.fpr
        # gpg --edit-key: select subkey 1 (the signing one just added), revoke it (reason 0), save.
        s.gpg("--command-fd", "0", "--edit-key", s.fpr, input="key 1\nrevkey\ny\n0\n\ny\nsave\n")
        listing = s.gpg("--with-colons", "--list-keys", s.fpr).stdout.splitlines()
        assert [l.split(":")[1] for l in listing if l.startswith(("pub:", "sub:"))] == ["u", "r"], \
            "only the subkey is revoked, the primary key is still good"
        with pytest.raises(SignatureError, match="REVOKED"):
            check_signature(tarball, asc, s.export(tmp_path / "after.asc"))
    finally:
        s.close()

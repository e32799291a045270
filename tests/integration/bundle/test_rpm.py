"""The .rpm: digests check, a test install into an empty rpm database, rpmlint, its binary runs.

Wall time: ~10-20 s once the session's bundle exists.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

# The first test to use the session's bundle may build the toolchain and the bundle (~10 min cold).
pytestmark = pytest.mark.timeout(2400)


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def test_rpm_digests_check(chat_bundle):
    proc = run("rpm", "-K", chat_bundle.files["rpm"])
    assert proc.returncode == 0 and "digests OK" in proc.stdout, proc.stdout + proc.stderr


def test_rpm_test_install_into_an_empty_database(chat_bundle, tmp_path):
    assert run("rpm", "--root", tmp_path, "--initdb").returncode == 0
    proc = run("rpm", "--root", tmp_path, "-ivh", "--test", chat_bundle.files["rpm"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rpm_metadata_is_the_manifests_and_reproducible(chat_bundle):
    fmt = "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{BUILDHOST} %{BUILDTIME}\n%{SUMMARY}"
    out = run("rpm", "-qp", "--qf", fmt, chat_bundle.files["rpm"]).stdout
    assert out == "chat 1.0.0 1 x86_64 apaf-build 1735689600\nTor onion service: chat rooms reachable only as a Tor onion service"


RPMLINTRC = Path(__file__).resolve().parents[3] / "toolchains" / "recipes" / "rpm" / "rpmlintrc"


def test_rpmlint_reports_no_errors(chat_bundle):
    """With the bundle filters (toolchains/recipes/rpm/rpmlintrc: static binary, /opt, unsigned), each justified there."""
    proc = run("rpmlint", "-r", RPMLINTRC, chat_bundle.files["rpm"])
    assert " 0 errors" in proc.stdout, proc.stdout + proc.stderr


def test_the_binary_extracted_from_the_rpm_runs(chat_bundle, tmp_path):
    cpio = run("sh", "-c", f"rpm2cpio {chat_bundle.files['rpm']} | cpio -idm --quiet", cwd=tmp_path)
    assert cpio.returncode == 0, cpio.stderr
    exe = tmp_path / "opt" / "chat" / "chat"
    assert (tmp_path / "usr/bin/chat").resolve() == exe.resolve()
    proc = run(exe, "status", "--json", "--data-dir", tmp_path / "data", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tor"]["running"] is False
    assert "--testnet" in run(exe, "--help", timeout=120).stdout

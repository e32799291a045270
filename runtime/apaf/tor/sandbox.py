"""tor's own `Sandbox 1` (a seccomp filter tor puts on itself): can this tor do it, is it on.

Whether a tor binary was built with libseccomp cannot be read from `tor --version` or
`--verify-config` (both accept `Sandbox 1` either way; a tor without support only warns when
it runs). So `supported()` asks the kernel: it runs the binary once with `Sandbox 1` and the
network off, until tor's main loop has started, and checks that tor holds one more seccomp
filter than we do (a container's filter is inherited by everyone). The answer is cached per
binary content (sha256) in a small JSON file, so each tor release is probed once (~0.2 s).

`active(pid)` is the same kernel check on the running tor, and `status()` the runtime's
report of it: what the kernel enforces, not what the torrc asked for, and why not.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from apaf.fsutil import atomic_write
from apaf.sandbox import platform_module
from apaf.tor.owner import start_owned

log = logging.getLogger("apaf.tor")

# Printed once tor's main loop runs, which is after it installed its filter.
_STARTED = "Bootstrapped 0%"
_PROBE_TIMEOUT = 20.0

NOT_LINUX = "tor's Sandbox exists only on Linux"
NOT_BUILT = "this tor was built without seccomp support"
TRANSPORTS = ("a pluggable transport (ClientTransportPlugin ... exec) needs tor to start a "
              "program, which tor's sandbox forbids")


def _seccomp(pid: int | str) -> tuple[int | None, int | None]:
    """(seccomp mode, number of filters) the kernel shows for `pid`; None where it does not."""
    mode = filters = None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Seccomp:"):
                mode = int(line.split()[1])
            elif line.startswith("Seccomp_filters:"):  # Linux >= 5.9
                filters = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return mode, filters


def active(pid: int | None) -> bool:
    """True when the process `pid` runs under a seccomp filter of its own (not only ours)."""
    if pid is None:
        return False
    (mode, theirs), (our_mode, ours) = _seccomp(pid), _seccomp("self")
    if theirs is not None and ours is not None:
        return theirs > ours
    # Before Linux 5.9 there is no count: a filter where we have none is tor's own; under
    # an inherited filter (a container) it cannot be told, and "no" is the safe answer.
    return mode == 2 and our_mode == 0


def status(pid: int | None, supported: bool | None, unsupported_why: str, extra: str,
           *, started: bool) -> dict:
    """{"on": the kernel applies tor's own filter to `pid`, "why_off": why not (None when on)}.

    `started`: tor's main loop runs (it has reported bootstrap progress); the filter goes on
    just before it, so until then "off" only means "not yet".
    """
    if active(pid):
        return {"on": True, "why_off": None}
    if supported is None or pid is None:
        why = "tor is not running"
    elif not supported:
        why = unsupported_why
    elif runs_programs(extra):
        why = TRANSPORTS
    elif not started:
        why = "tor is starting"
    else:
        why = "tor was given Sandbox 1 but the kernel shows no filter of its own"
    return {"on": False, "why_off": why}


def runs_programs(extra: str) -> bool:
    """Whether `extra` has tor start a program (a managed transport), which Sandbox forbids.

    Liberal on purpose: tor refuses to start with both, so a false "yes" only costs the
    sandbox, a false "no" would cost tor.
    """
    for line in extra.split("\n"):
        words = line.split("#", 1)[0].split()
        if words and words[0].lower() == "clienttransportplugin" and "exec" in (w.lower() for w in words[1:]):
            return True
    return False


def _digest(binary: Path) -> str:
    with open(binary, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


async def supported(binary: Path, cache: Path, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """(True, "") when `binary` runs with `Sandbox 1` under its own filter, else (False, why)."""
    if not sys.platform.startswith("linux"):
        return False, NOT_LINUX
    digest = await asyncio.to_thread(_digest, binary)
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if digest in known and isinstance(known[digest], list) and len(known[digest]) == 2:
        return bool(known[digest][0]), str(known[digest][1])
    *result, definite = await _probe(binary, env)
    result = tuple(result)
    if not definite:  # a timeout on a busy machine says nothing about the binary
        return result
    known[digest] = list(result)
    try:
        atomic_write(cache, json.dumps(known, indent=1) + "\n", mode=0o600)
    except OSError as err:  # a read-only data dir only costs a probe next time
        log.warning("could not cache tor's sandbox support in %s: %s", cache, err)
    return result


async def _probe(binary: Path, env: dict[str, str] | None) -> tuple[bool, str, bool]:
    """(on, why not, whether the answer is definite)."""
    with tempfile.TemporaryDirectory(prefix="apaf-torsandbox-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir(mode=0o700)
        torrc = Path(tmp) / "torrc"
        torrc.write_text("\n".join([
            f"DataDirectory {data}", "Sandbox 1", "DisableNetwork 1", "SocksPort 0",
            "ClientOnly 1", "AvoidDiskWrites 1", "Log notice stdout",
            f"__OwningControllerProcess {os.getpid()}", ""]))
        owner = platform_module().tor_owner()  # a runtime killed mid-probe takes the probe along
        proc = await start_owned(
            owner, [str(binary), "-f", str(torrc), "--defaults-torrc", os.devnull],
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=env)
        lines: list[str] = []

        async def started() -> bool:
            async for raw in proc.stdout:
                lines.append(raw.decode(errors="replace").rstrip())
                if _STARTED in lines[-1]:
                    return True
            return False

        ran = timed_out = on = False
        try:
            ran = await asyncio.wait_for(started(), _PROBE_TIMEOUT)
            on = ran and active(proc.pid)
        except asyncio.TimeoutError:
            timed_out = True
        finally:
            if proc.returncode is None:
                proc.kill()
            code = await proc.wait()
            owner.close()
    if on:
        return True, "", True
    if any("without support for sandboxing" in ln for ln in lines):
        return False, NOT_BUILT, True
    if timed_out:  # a busy machine says nothing about the binary: not cached
        return False, f"tor did not start within {_PROBE_TIMEOUT:.0f} s with Sandbox 1", False
    if ran:
        why = "tor ran with Sandbox 1 but the kernel shows no seccomp filter of its own"
    else:
        said = "; ".join(ln.split("] ", 1)[-1] for ln in lines if "[err]" in ln or "[warn]" in ln)
        why = f"tor exited (code {code}) with Sandbox 1" + (f": {said[-300:]}" if said else "")
    log.warning("%s: %s", binary, why)
    return False, why, True

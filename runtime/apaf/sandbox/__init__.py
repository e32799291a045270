"""The app sandbox: each app process confined to what its manifest's privileges grant.

One module per platform behind the same functions, chosen in `platform_module()`:

    probe() -> dict                  what this machine can enforce (in `apaf status --json`)
    apply(policy) -> list[str]       confine the calling process (inside the app, before its code)
    wrap_command(policy, argv)       the argv that starts the app confined (macOS: sandbox-exec)
    listener()                       how the app gets its listening socket (apaf.apps.handover)
    tor_owner()                      how a tor we start exits with us (apaf.tor.owner)
    watch_launchers(on_gone)         stop when the bundle's launcher processes are killed
    loopback_peer_uid(server, peer)  who is on the other end of a loopback TCP connection (None: unknown)

    linux    Landlock + seccomp + no_new_privs, enforced (apaf.sandbox.linux)
    darwin   a generated sandbox-exec (SBPL) profile (apaf.sandbox.macos)
    win32    nothing enforced yet; says so (apaf.sandbox.windows)

The runtime side calls `status()` and `privileges_status()`; the app side (apaf.apps.launch)
calls `enter()`, which builds the Policy from the APAF_* environment and the manifest.
"""
from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from collections.abc import Mapping

from apaf.sandbox.policy import OUTBOUND_TOR, RUN_BINARIES, TOR_STATUS, Policy, runtime_paths

PLATFORMS = {"linux": "apaf.sandbox.linux", "darwin": "apaf.sandbox.macos", "win32": "apaf.sandbox.windows"}
DISABLE_VAR = "APAF_SANDBOX"  # "off" only for debugging an app; the admin UI then shows nothing enforced
TMP_VAR = "APAF_TMP_DIR"
CONFINED = "confined"  # the app log's line once the sandbox is on (with its cost in ms)

# Which limit of probe() guards each privilege: without it, lacking the privilege stops nothing.
_GUARD = {OUTBOUND_TOR: "network", TOR_STATUS: "files", RUN_BINARIES: "files"}


def platform_module(platform: str | None = None):
    """The module for this host (the one place that looks at sys.platform)."""
    platform = platform or sys.platform
    if platform not in PLATFORMS:
        raise RuntimeError(f"no app sandbox for platform {platform!r}; known: {', '.join(PLATFORMS)}")
    return importlib.import_module(PLATFORMS[platform])


@functools.cache
def status() -> dict:
    """What the sandbox enforces on this machine: {"platform", "files", "network", ...}."""
    info = dict(platform_module().probe())
    if os.environ.get(DISABLE_VAR) == "off":
        info.update(files=False, network=False, system_calls=False, disabled=f"{DISABLE_VAR}=off")
    return info


def privileges_status(privileges) -> list[dict]:
    """For the admin UI: each known privilege, granted or not, and whether its limit is enforced."""
    from apaf.manifest import PRIVILEGES
    limits = status()
    return [{"name": n, "granted": n in privileges, "allows": text,
             "enforced": bool(limits.get(_GUARD[n]))} for n, text in PRIVILEGES.items()]


def policy_from_environment(manifest, env: Mapping[str, str] = os.environ) -> Policy:
    """The Policy for the app of `manifest` from the environment the runtime gives it."""
    from apaf import appenv
    from apaf.binaries import executables

    from apaf.listen import LISTEN_FD

    socks = _port_of(env[appenv.SOCKS]) if env.get(appenv.SOCKS) else None
    data_dir = env["APAF_DATA_DIR"]
    return Policy.for_app(
        manifest, data_dir=data_dir, tmp_dir=env.get(TMP_VAR), status_file=env.get(appenv.STATUS_FILE),
        socks_port=socks, app_port=env.get("APAF_PORT"),
        # The runtime holds the socket (listener()): the app binds nothing, not even its port.
        own_bind=not env.get(LISTEN_FD),
        runtime_paths=runtime_paths(data_root=os.path.dirname(os.path.dirname(data_dir))),
        executables=executables(manifest))


def _port_of(value: str) -> int | None:
    try:
        return int(value.rstrip("/").rpartition(":")[2])
    except ValueError:
        return None


def enter(manifest, log=sys.stderr) -> Policy | None:
    """Confine this app process (call before any app code and before starting a thread)."""
    if os.environ.get(DISABLE_VAR) == "off":
        print(f"apaf sandbox: OFF ({DISABLE_VAR}=off): this app is not confined", file=log, flush=True)
        for note in platform_module().drop_root(policy_from_environment(manifest)):  # never root
            print(f"apaf sandbox: {note}", file=log, flush=True)
        return None
    from apaf.sandbox import audit

    started = time.perf_counter()
    policy = policy_from_environment(manifest)
    platform = platform_module()
    sys.dont_write_bytecode = True  # no .pyc can be written from now on; no refusal noise
    applying = time.perf_counter()
    notes = platform.apply(policy)
    applied = time.perf_counter()
    audit.install(policy, log)
    for note in notes:
        print(f"apaf sandbox: {note}", file=log, flush=True)
    print(f"apaf sandbox: {CONFINED} in {(applied - started) * 1000:.1f} ms (kernel rules "
          f"{(applied - applying) * 1000:.1f} ms): privileges {list(policy.privileges) or 'none'}",
          file=log, flush=True)
    return policy

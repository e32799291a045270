"""One app's process: contract environment, 127.0.0.1-only port, restart on crash, clean stop.

    app = AppProcess(manifest, data_dir=D/"apps"/name, log_path=D/"run"/"logs"/f"{name}.log",
                     env={"APAF_ONION_ADDRESS": ..., "APAF_SOCKS": ..., ...}, tmp_dir=D/"tmp"/name)
    await app.start()          # returns when the app serves on app.port
    await app.restart()        # same socket, same port
    await app.stop()           # and the socket is closed

The runtime holds the listening socket on 127.0.0.1:app.port from construction until stop(),
because the onion service maps to that port and nobody else may take it; every app process
inherits it (apaf.apps.handover). Output goes to `log_path` (0600); a failed start raises
AppError with its last lines.
The process confines itself (apaf.sandbox) before the app's code runs; `tmp_dir` (default:
beside the data dir) is its private TMPDIR, the only place besides `data_dir` it may write.
When the runtime is root, both become the app's own (apaf.sandbox.account), and the app
process drops to that uid before its code runs. Its environment is `INHERITED` from ours plus
the contract variables, nothing else.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Callable

from apaf.apps import LAUNCH_FLAG, RUNTIME_PID  # there, so an app process need not import this module
from apaf.errors import AppError
from apaf.fsutil import ensure_private_dir
from apaf.manifest import Manifest
from apaf.restart import cancel_task, supervise
from apaf.sandbox import TMP_VAR, platform_module, policy_from_environment
from apaf.sandbox.policy import Grant


# What an app inherits from the runtime's environment; everything else (SSH_AUTH_SOCK,
# DBUS_SESSION_BUS_ADDRESS, DISPLAY, XAUTHORITY, proxies, tokens, USER, HOME...) stays out: it
# names the person or reaches their session. The frozen bundle's own start-up needs its
# bootloaders' variables: PyInstaller's _PYI_* (the child reuses the unpacked archive instead of
# unpacking a second copy) and LD_LIBRARY_PATH (set by it to its unpack dir), staticx's STATICX_*.
INHERITED = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "PYTHONPATH", "PYTHONHOME", "PYTHONUTF8",
             "PYTHONIOENCODING", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "LD_LIBRARY_PATH",
             "LD_LIBRARY_PATH_ORIG", "APAF_SANDBOX", "APAF_BINARIES",
             "SYSTEMROOT", "WINDIR")  # Windows: Python cannot start its sockets or random without them
INHERITED_PREFIXES = ("LC_", "_PYI_", "STATICX_")


def inherited_environment(environ=os.environ) -> dict[str, str]:
    """The part of the runtime's environment an app process gets (INHERITED)."""
    return {k: v for k, v in environ.items() if k in INHERITED or k.startswith(INHERITED_PREFIXES)}


def launch_command() -> list[str]:
    """The argv that starts one app process: the frozen bundle itself, or `python -m`."""
    if getattr(sys, "frozen", False):
        return [sys.executable, LAUNCH_FLAG]
    # -P: `-m` would put the working directory, the app's own, first on sys.path, so an app's
    # tomllib.py or json.py would be imported in place of the standard one by the launcher,
    # before the sandbox is on. The launcher adds the app directory itself, once confined.
    # -s: HOME is the app's data directory, which the app writes; a Python outside a venv
    # runs the .pth files and usercustomize of ~/.local/lib/pythonX.Y/site-packages at start-up,
    # so an app that left one there and crashed ran it, unconfined (as root under a root runtime).
    return [sys.executable, "-P", "-s", "-m", "apaf.apps.launch"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    if hasattr(os, "killpg"):
        os.killpg(proc.pid, sig)  # the app runs in its own session (start_new_session)
    else:  # Windows: no process groups to signal
        proc.terminate() if sig == signal.SIGTERM else proc.kill()


class AppProcess:
    def __init__(self, manifest: Manifest, *, data_dir: Path, log_path: Path, env: dict[str, str],
                 on_change: Callable[[], None] | None = None, ready_timeout: float = 30.0,
                 tmp_dir: Path | None = None):
        self.manifest = manifest
        self.data_dir = data_dir
        self.tmp_dir = tmp_dir or data_dir.with_name(f"{data_dir.name}.tmp")
        self.log_path = log_path
        self.env = env
        self.on_change = on_change or (lambda: None)
        self.ready_timeout = ready_timeout
        self.listener = platform_module().listener()
        self.host: str = self.listener.host
        self.port: int = self.listener.port
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False
        self._supervisor: asyncio.Task | None = None

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def environment(self) -> dict[str, str]:
        m = self.manifest
        return {
            **inherited_environment(),
            "HOME": str(self.data_dir),  # what ~ and expanduser() mean to the app
            "APAF_BIND_HOST": self.host,
            "APAF_PORT": str(self.port),
            "APAF_APP_DIR": str(m.app_dir),
            "APAF_DATA_DIR": str(self.data_dir),
            "APAF_SETTINGS": json.dumps(m.settings),
            "APAF_ENTRY": m.entry,
            "APAF_APP_NAME": m.name,
            RUNTIME_PID: str(os.getpid()),  # the app's parent: the app exits once it is gone
            **Grant.environment(m),  # the sandbox's part of the manifest: the app parses no TOML
            "TMPDIR": str(self.tmp_dir),
            TMP_VAR: str(self.tmp_dir),
            **self.env,
        }

    async def start(self) -> None:
        if self.listener is None:  # stopped before: a new socket, on a new port
            self.listener = platform_module().listener()
            self.host, self.port = self.listener.host, self.listener.port
        self._stopping = False
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"app-{self.name}")

    async def restart(self) -> None:
        """A new app process on the same socket: connections meanwhile wait in its backlog."""
        await self._halt()
        await self.start()

    async def stop(self, timeout: float = 5.0) -> None:
        await self._halt(timeout)
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    async def _halt(self, timeout: float = 5.0) -> None:
        self._stopping = True
        await cancel_task(self._supervisor)
        self._supervisor = None
        await self._terminate(timeout)
        self.on_change()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def _terminate(self, timeout: float = 5.0) -> None:
        proc = self.proc
        if proc and proc.returncode is None:
            try:
                _signal_group(proc, signal.SIGTERM)  # the app and anything it started
                await asyncio.wait_for(proc.wait(), timeout)
            except ProcessLookupError:
                pass
            except asyncio.TimeoutError:
                _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
                await proc.wait()

    async def _spawn(self) -> None:
        ensure_private_dir(self.data_dir)
        ensure_private_dir(self.tmp_dir)
        ensure_private_dir(self.log_path.parent)
        env = self.environment()
        env.update(platform_module().app_identity(self.name, (self.data_dir, self.tmp_dir)))  # never root
        handed, fds = self.listener.child()
        env.update(handed)
        argv = platform_module().wrap_command(policy_from_environment(self.manifest, env), launch_command())
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=fd, stderr=fd, env=env, cwd=self.manifest.app_dir,
                start_new_session=True, pass_fds=fds)
        finally:
            os.close(fd)
            self.listener.spawned()
        deadline = time.monotonic() + self.ready_timeout
        # The runtime's own socket accepts whatever the app does: only the app can say it serves.
        while not await self.listener.ready():
            if self.proc.returncode is not None or time.monotonic() > deadline:
                await self._terminate()
                raise AppError(f"app {self.name!r} ({self.manifest.path}) did not start serving on "
                               f"{self.host}:{self.port}; its last output ({self.log_path}):\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        self.on_change()

    async def _supervise(self) -> None:
        async def exited(code: int) -> None:
            self.on_change()

        async def relaunch() -> None:
            await self._spawn()
            self.restarts += 1

        await supervise(f"app {self.name}", lambda: self.proc, lambda: self._stopping, exited, relaunch)

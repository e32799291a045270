"""A tor daemon owned and supervised by this process, driven through stem.

    tor = Tor(data_dir / "tor", join_lines=[...], extra="...")
    tor.socks                         # "127.0.0.1:P": held by us for tor's whole life (relay.py)
    await tor.start()                 # returns once the control port answers (not bootstrapped)
                                      # (or `await tor.launch()` first, work, then `start()`)
    await tor.wait_bootstrapped()
    await tor.call(lambda c: c.get_info("version"))   # stem calls run in a worker thread
    await tor.stop()

tor exits when we die, even by SIGKILL and even before its control port is up: an owning
control connection handed to it at start (apaf.tor.owner), `__OwningControllerProcess`, and
TAKEOWNERSHIP on the control connection. If tor itself dies, the supervisor restarts it with
back-off (0.5 s up to 30 s) and then awaits `on_restart()` so owners can re-create their state (onion services).
Apps get `tor.socks`, a port we hold until `stop()` and relay to tor's own `auto` port, so a
tor restart never frees it (apaf.tor.relay, README.md).
`on_change()` is called (in the event loop) whenever bootstrap/running changes; stem events
of the types in `event_types` go to `on_event(event)` in the event loop as well.

tor runs with its own `Sandbox 1` when the binary supports it (probed once per binary,
apaf.tor.sandbox) and the extra lines start no transport program; `sandbox_status()` says
what the kernel enforces. An edit that turns the sandbox on or off restarts tor (tor cannot
change `Sandbox` while running).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import time
from pathlib import Path
from typing import Awaitable, Callable

from apaf.errors import TorrcRejected, TorStartError
from apaf.fsutil import atomic_write, ensure_private_dir
from apaf.restart import cancel_task, supervise
from apaf.sandbox import platform_module
from apaf.stem_import import import_stem
from apaf.timeline import mark
from apaf.tor import batch, sandbox, torrc
from apaf.tor.binary import child_env, find_tor
from apaf.tor.owner import start_owned
from apaf.tor.relay import SocksRelay, tor_socks_port

import_stem()  # before this module's `import stem`: without what it never uses (stem_import.py)
from stem import ControllerError, SocketError  # noqa: E402
from stem.control import Controller, EventType  # noqa: E402

log = logging.getLogger("apaf.tor")
SANDBOX_CACHE = "sandbox-support.json"  # in tor's data dir: the probe's answer per binary


class Tor:
    def __init__(self, data_dir: Path, *, binary: Path | None = None,
                 join_lines: list[str] | tuple[str, ...] = (), extra: str = "",
                 event_types: tuple[str, ...] = (),
                 on_event: Callable[[object], None] | None = None,
                 on_change: Callable[[], None] | None = None,
                 on_restart: Callable[[], Awaitable[None]] | None = None,
                 start_timeout: float = 30.0):
        self.data_dir = Path(data_dir)
        self.binary = binary or find_tor()
        self.relay = SocksRelay.bind(tor_alive=self._alive)
        self.join_lines = list(join_lines)
        self.extra = extra
        self.event_types = event_types
        self.on_event, self.on_change, self.on_restart = on_event, on_change, on_restart
        self.start_timeout = start_timeout
        self.controller: Controller | None = None
        self._socks_listener: int | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.version = ""
        self.bootstrap = 0
        self.summary = "not started"
        self.restarts = 0
        self._log = collections.deque(maxlen=40)
        self._stopping = False
        self._supervisor: asyncio.Task | None = None
        self._bootstrapped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sandbox_supported: bool | None = None  # None: not probed yet (launch() does)
        self.sandbox_unsupported_why = ""
        self._owner = platform_module().tor_owner()

    # -- public -------------------------------------------------------------------------
    @property
    def socks(self) -> str:
        return self.relay.address

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and self.controller is not None

    @property
    def torrc_path(self) -> Path:
        return self.data_dir / "torrc"

    def torrc_text(self, extra: str | None = None) -> str:
        extra = self.extra if extra is None else extra
        return torrc.render(self.data_dir, owner_pid=os.getpid(),
                            join_lines=self.join_lines, extra=extra, sandbox=self.sandbox_wanted(extra))

    def sandbox_wanted(self, extra: str | None = None) -> bool:
        """Whether tor gets `Sandbox 1` with these extra lines (default: those in force)."""
        extra = self.extra if extra is None else extra
        return bool(self.sandbox_supported) and not sandbox.runs_programs(extra)

    def sandbox_status(self) -> dict:
        """{"on": the kernel applies tor's own filter, "why_off": why not (None when on)}."""
        pid = self.proc.pid if self.proc is not None and self.proc.returncode is None else None
        return sandbox.status(pid, self.sandbox_supported, self.sandbox_unsupported_why,
                              self.extra, started=self.bootstrap > 0)

    async def launch(self) -> None:
        """Start the tor process and return at once: the caller can work while tor reads its
        configuration and opens its ports (`start()` then connects)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        if self.sandbox_supported is None:
            ensure_private_dir(self.data_dir)
            self.sandbox_supported, self.sandbox_unsupported_why = await sandbox.supported(
                self.binary, self.data_dir / SANDBOX_CACHE, env=child_env())
            if not self.sandbox_supported:
                log.info("tor runs without its own sandbox: %s", self.sandbox_unsupported_why)
        await self.relay.start()
        await self._spawn()

    async def start(self) -> None:
        """Launch tor (unless `launch()` did) and connect; raises TorStartError with tor's last log lines."""
        if self.proc is None or self.proc.returncode is not None:
            await self.launch()
        await self._attach()
        self._supervisor = asyncio.create_task(self._supervise(), name="tor-supervisor")

    @property
    def bootstrapped(self) -> bool:
        """The running tor has built its first circuit (False again from a restart on)."""
        return self._bootstrapped.is_set()

    async def wait_bootstrapped(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._bootstrapped.wait(), timeout)

    async def add_onions(self, requests: list[batch.AddOnion]) -> list:
        """ADD_ONION all `requests` in one write (batch.py says why); per request, stem's
        answer or tor's refusal (str)."""
        return await self.call(lambda c: batch.add_onions(c.get_socket().address, c.get_socket().port, requests))

    async def call(self, fn: Callable[[Controller], object]):
        """Run `fn(controller)` in a worker thread (stem is blocking)."""
        ctl = self.controller
        if ctl is None:
            raise TorStartError("tor is not running (restarting?); try again in a moment")
        return await asyncio.to_thread(fn, ctl)

    async def verify(self, extra: str) -> None:
        """Check that our torrc plus `extra` is accepted by this tor; raises TorrcRejected."""
        await torrc.verify(self.binary, self.torrc_text(extra), env=child_env())

    async def apply(self, extra: str, confirm: Callable[[Controller], str | None],
                    restarted: Callable[[], Awaitable[None]] | None = None) -> None:
        """Make the running tor use `extra`, confirm it, and only then rewrite the torrc.

        LOADCONF hands tor the whole new torrc: tor answers whether it took it, and keeps
        its old configuration (and keeps running) when it does not.  `confirm(controller)`
        then returns a problem or None.  On any failure the previous text is loaded again
        and TorrcRejected carries tor's words; the torrc file and `self.extra` change only
        on success, so a tor restart at any moment starts from a configuration tor took.

        An edit that switches tor's sandbox on or off restarts tor instead (tor cannot change
        `Sandbox` while running), then awaits `restarted()` (default `on_restart`): a caller
        holding the lock its `on_restart` takes passes what re-creates its state without it.
        """
        if self.sandbox_wanted(extra) != self.sandbox_wanted():
            return await self._apply_by_restart(extra, confirm, restarted)
        text = self.torrc_text(extra)
        pid = self.proc.pid if self.proc else None
        try:
            problem = await self.call(lambda c: _loadconf(c, text) or confirm(c))
        except (ControllerError, OSError, TorStartError) as err:
            problem = f"tor stopped answering ({err})"
        if problem:
            await self._restore(pid)
            raise TorrcRejected(problem)
        self.extra = extra
        atomic_write(self.torrc_path, text)
        # tor keeps an `auto` listener across LOADCONF (measured); if it moved, read it back.
        try:
            listeners = await self.call(lambda c: c.get_info("net/listeners/socks", ""))
        except (ControllerError, OSError, TorStartError):
            return  # tor died just now: the supervisor restarts it and sets the port
        self.relay.set_backend(tor_socks_port(listeners))

    async def _apply_by_restart(self, extra: str, confirm: Callable[[Controller], str | None],
                                restarted: Callable[[], Awaitable[None]] | None) -> None:
        """`apply()` for an edit that switches tor's sandbox: restart tor with it, confirm,
        and on any failure restart it with the previous text."""
        previous = self.extra
        await cancel_task(self._supervisor)
        self.extra = extra  # _spawn writes the torrc file from it
        problem = await self._relaunch("restarting tor for its new configuration")
        if problem is None:
            try:
                problem = await self.call(confirm)
            except (ControllerError, OSError, TorStartError) as err:
                problem = f"tor stopped answering ({err})"
        if problem:
            self.extra = previous
            if await self._relaunch("restarting tor on its previous configuration"):
                log.warning("tor did not start again on its previous configuration; retrying")
        self._supervisor = asyncio.create_task(self._supervise(), name="tor-supervisor")
        self.restarts += 1
        callback = restarted or self.on_restart
        if callback is not None:
            try:
                await callback()
            except Exception:  # as in the supervisor: a failing owner callback is logged
                log.exception("re-creating state after tor's restart failed")
        if problem:
            raise TorrcRejected(problem)

    async def _relaunch(self, summary: str) -> str | None:
        """Stop tor and start it from the current torrc text; None, or why it did not start."""
        await self._terminate()
        self.summary = summary
        self._changed()
        try:
            await self._launch()
        except TorStartError as err:
            return f"tor did not start with it: {err}"
        return None

    async def _restore(self, pid: int | None) -> None:
        """Put the last accepted configuration back into the running tor (or a restarted one)."""
        old = self.torrc_text()
        if self.running and self.proc.pid == pid:
            try:
                if await self.call(lambda c: _loadconf(c, old)) is None:
                    return
            except (ControllerError, OSError, TorStartError):
                pass
            log.warning("tor did not take its previous configuration back; restarting it")
            await self._terminate()  # the supervisor restarts it from the torrc file (old)
        # The supervisor (re)starts tor from the unchanged torrc file: wait for it.
        deadline = time.monotonic() + self.start_timeout
        while not self.running and time.monotonic() < deadline and not self._stopping:
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self._stopping = True
        await cancel_task(self._supervisor)
        self._supervisor = None
        await self._terminate()
        await self.relay.close()
        self.summary = "stopped"
        self._changed()

    def log_tail(self) -> str:
        return "\n".join(self._log)

    # -- internals ----------------------------------------------------------------------
    def _alive(self) -> bool:  # the owner link knows tor died before the child watcher does
        return self.proc is not None and self.proc.returncode is None and self._owner.alive()

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    async def _launch(self) -> None:
        await self._spawn()
        await self._attach()

    async def _spawn(self) -> None:
        ensure_private_dir(self.data_dir)
        port_file = self.data_dir / torrc.CONTROL_PORT_FILE
        port_file.unlink(missing_ok=True)
        atomic_write(self.torrc_path, self.torrc_text())
        self._bootstrapped.clear()
        self.bootstrap, self.summary = 0, "starting tor"
        self._log.clear()
        self.proc = await start_owned(
            self._owner, [str(self.binary), "-f", str(self.torrc_path), "--defaults-torrc", os.devnull],
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=child_env(),
            start_new_session=True)  # Ctrl-C in a terminal reaches us, and we stop tor in order
        mark("tor-launched")
        self._log_task = asyncio.create_task(self._read_log(self.proc))

    async def _attach(self) -> None:
        """Wait for tor's control port and connect to it."""
        port_file = self.data_dir / torrc.CONTROL_PORT_FILE
        deadline = time.monotonic() + self.start_timeout
        while not port_file.exists():
            if self.proc.returncode is not None or time.monotonic() > deadline:
                await self._terminate()
                raise TorStartError(f"tor ({self.binary}) did not start:\n{self.log_tail()}")
            await asyncio.sleep(0.02)
        host, port = port_file.read_text().strip().split("=", 1)[1].rsplit(":", 1)
        try:
            self.controller = await asyncio.to_thread(self._connect, host, int(port))
        except (SocketError, OSError, ValueError) as err:
            await self._terminate()
            raise TorStartError(f"could not talk to tor on its control port: {err}\n{self.log_tail()}") from None
        self.relay.set_backend(self._socks_listener)
        mark("tor-control")
        self._changed()

    def _connect(self, host: str, port: int) -> Controller:
        ctl = Controller.from_port(address=host, port=port)
        ctl.authenticate()  # cookie: tor tells stem where the file is
        ctl.msg("TAKEOWNERSHIP")  # tor exits as soon as this connection closes
        self.version = str(ctl.get_version()).split(" ")[0]
        ctl.add_event_listener(self._stem_event, EventType.STATUS_CLIENT,
                               *[getattr(EventType, t) for t in self.event_types])
        self._set_bootstrap(ctl.get_info("status/bootstrap-phase", ""))
        self._socks_listener = tor_socks_port(ctl.get_info("net/listeners/socks", ""))
        return ctl

    def _stem_event(self, event) -> None:
        # Called in stem's event thread: hop into the event loop.
        loop = self._loop
        if loop and not loop.is_closed():
            loop.call_soon_threadsafe(self._dispatch, event)

    def _dispatch(self, event) -> None:
        if event.type == "STATUS_CLIENT":
            if getattr(event, "action", "") == "BOOTSTRAP":
                args = event.keyword_args
                self._apply_bootstrap(int(args.get("PROGRESS", 0)), args.get("SUMMARY", ""))
        elif self.on_event:
            self.on_event(event)

    def _set_bootstrap(self, phase: str) -> None:
        # "NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"" -- parsed in stem's thread.
        progress, summary = 0, ""
        for word in phase.split(" "):
            if word.startswith("PROGRESS="):
                progress = int(word[9:])
        if 'SUMMARY="' in phase:
            summary = phase.split('SUMMARY="', 1)[1].split('"', 1)[0]
        self._loop.call_soon_threadsafe(self._apply_bootstrap, progress, summary)

    def _apply_bootstrap(self, progress: int, summary: str) -> None:
        self.bootstrap, self.summary = progress, summary or self.summary
        if progress >= 100 and not self._bootstrapped.is_set():
            self._bootstrapped.set()
            mark("bootstrapped")
        self._changed()

    async def _read_log(self, proc: asyncio.subprocess.Process) -> None:
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._log.append(line)
            log.debug("%s", line)

    async def _terminate(self) -> None:
        self.relay.set_backend(None)  # before tor's port closes and could be taken
        ctl, self.controller = self.controller, None
        if ctl is not None:
            await asyncio.to_thread(ctl.close)  # TAKEOWNERSHIP: tor starts shutting down now
        proc = self.proc
        if proc and proc.returncode is None:
            try:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 10)
            except ProcessLookupError:
                pass
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        self._owner.close()

    async def _supervise(self) -> None:
        async def exited(code: int) -> None:
            self.relay.set_backend(None)
            ctl, self.controller = self.controller, None
            if ctl is not None:
                await asyncio.to_thread(ctl.close)
            self.bootstrap, self.summary = 0, f"tor exited (code {code}); restarting"
            self._bootstrapped.clear()
            self._changed()

        async def relaunch() -> None:
            try:
                await self._launch()
            except TorStartError:
                self.summary = "tor failed to restart; retrying"
                self._changed()
                raise
            self.restarts += 1
            if self.on_restart:
                try:
                    await self.on_restart()
                except Exception:  # the supervisor must survive a failing owner callback
                    log.exception("on_restart failed")

        await supervise("tor", lambda: self.proc, lambda: self._stopping, exited, relaunch)


def _loadconf(ctl: Controller, torrc_text: str) -> str | None:
    """LOADCONF the full torrc text; tor's refusal (its own words) or None."""
    # The control protocol ends the data at a line holding only "."; dot-stuff like SMTP.
    body = "\n".join("." + ln if ln.startswith(".") else ln for ln in torrc_text.split("\n"))
    reply = ctl.msg("LOADCONF\n" + body.rstrip("\n"))
    ctl.clear_cache()  # stem caches GETCONF answers and knows nothing of a raw LOADCONF
    if reply.is_ok():
        return None
    return f"tor refused the configuration: {str(reply).strip()}"

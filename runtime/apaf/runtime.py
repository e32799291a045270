"""The runtime orchestrator: tor + one onion service and one process per enabled app + admin UI.

    rt = Runtime([Path("examples/static-site")], data_dir, join_lines=testnet_lines)
    await rt.start()      # tor up, keys persisted, apps serving, admin up; each onion service
                          # is added once tor has built its first circuit (a task)
    ...
    await rt.stop()

`Runtime` implements `apaf.admin.control.RuntimeControl` (structurally). Every change is
mirrored atomically into D/run/status.json (the `apaf status --json` shape); user choices
persist in D/settings.json; a lock on D/run/lock keeps a second runtime off the same data dir.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
from pathlib import Path

from apaf import coredumps, paths
from apaf.apps import AppProcess
from apaf.errors import ConfigError, OnionError, TorrcRejected, TorStartError
from apaf.fsutil import atomic_write, ensure_private_dir
from apaf.manifest import Manifest, load_manifest
from apaf.onion import OnionServices, fetch_onion, now_iso
from apaf.restart import cancel_task
from apaf import sandbox
from apaf.settings import Settings
from apaf.timeline import mark
from apaf.tor import Tor, find_tor, policy
from apaf.tor.sandbox import TRANSPORTS

log = logging.getLogger("apaf.runtime")


class Runtime:
    def __init__(self, app_dirs: list[Path], data_dir: Path, *, join_lines: list[str] = (),
                 tor_binary: str | None = None, admin_port: int = 0, admin: bool = True,
                 allow_tor2web: bool | None = None, announce=None):
        self.layout = paths.Layout(Path(data_dir).absolute())
        self.manifests: dict[str, Manifest] = {}
        for app_dir in app_dirs:
            m = load_manifest(app_dir)
            if m.name in self.manifests:
                raise ConfigError(f"two apps are named {m.name!r} ({self.manifests[m.name].path} and "
                                  f"{m.path}); rename one in its apaf.toml")
            self.manifests[m.name] = m
        if not self.manifests:
            raise ConfigError("no app given; run `apaf run APP_DIR` with a folder holding an apaf.toml")
        self.join_lines = list(join_lines)
        self.tor_binary = find_tor(tor_binary)
        self.admin_port, self.want_admin = admin_port, admin
        # Where the admin UI's owner link goes (the terminal, never a file an app reads).
        self.announce = announce
        # The admin UI's Quit does what Ctrl-C does (set by `apaf run`; a menu start has no terminal).
        self.on_quit = None
        self.allow_tor2web = allow_tor2web  # None: keep what settings.json says
        self.settings = Settings()
        self.apps: dict[str, AppProcess] = {}
        self.reachability: dict[str, dict] = {}
        self.tor: Tor | None = None
        self.onions: OnionServices | None = None
        self.admin_server = None
        self._lock = None
        self._write_pending = False
        self._ops = asyncio.Lock()  # one control operation at a time (admin clicks, tor restarts)
        self._publishing: dict[str, asyncio.Task] = {}  # ADD_ONIONs waiting for tor's first circuit

    # -- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        coredumps.disable()  # before any key is read and before tor and the apps start
        L = self.layout
        L.prepare()
        self._lock = paths.lock_data_dir(L)
        self.settings = Settings.load(L.settings)
        self.settings.adopt(list(self.manifests))
        if self.allow_tor2web is not None:
            self.settings.allow_tor2web = self.allow_tor2web
        self.settings.save(L.settings)
        self.tor = Tor(L.tor, binary=self.tor_binary,
                       join_lines=self.join_lines, extra=self._startup_extra(),
                       event_types=("HS_DESC",), on_event=self._tor_event,
                       on_change=self._changed, on_restart=self._tor_restarted)
        self.onions = OnionServices(self.tor, L.keys, on_change=self._changed)
        # Start-up order (why: apaf/tor/README.md): tor first, as its bootstrap and descriptor
        # upload are the long pole; ADD_ONION the moment its control port answers; the admin
        # UI (imported in a worker thread meanwhile) and the apps after that.
        await self.tor.launch()
        admin = asyncio.ensure_future(self._start_admin() if self.want_admin else asyncio.sleep(0))
        try:
            await self.tor.start()
            await asyncio.gather(admin, *(self._start_app(n) for n in self._enabled()))
        except BaseException:
            await cancel_task(admin)
            raise
        self._write_status()

    async def stop(self) -> None:
        if self._lock is None and paths.fcntl is not None:
            return  # never started (or lost the race for the data dir): touch nothing
        await asyncio.gather(*(cancel_task(t) for t in self._publishing.values()), return_exceptions=True)
        if self.admin_server is not None:
            await self.admin_server.close()
            self.admin_server = None
        await asyncio.gather(*(app.stop() for app in self.apps.values()), return_exceptions=True)
        if self.tor:
            await self.tor.stop()
        self._write_status()
        paths.unlock_data_dir(self._lock)
        self._lock = None

    def _enabled(self) -> list[str]:
        return [n for n in self.settings.enabled_apps if n in self.manifests]

    async def _start_app(self, name: str) -> None:
        m = self.manifests[name]
        app = AppProcess(m, data_dir=self.layout.app_data(name), log_path=self.layout.app_log(name),
                         env={}, on_change=self._changed, tmp_dir=self.layout.app_tmp(name))
        self.apps[name] = app
        onion = await self.onions.address(name)
        if self.settings.service_running:
            self._publish_when_tor_is_ready(name)
        app.env = {
            "APAF_ONION_ADDRESS": onion,
            "APAF_SOCKS": self.tor.socks,
            "APAF_STATUS_FILE": str(self.layout.app_status),
            "APAF_ALLOW_TOR2WEB": "1" if self.settings.allow_tor2web else "0",
        }
        await app.start()
        mark(f"app-serving {name}")

    def _publish_when_tor_is_ready(self, name: str) -> None:
        """ADD_ONION `name` the moment tor has built its first circuit, not before.

        tor runs its onion-service work once a second from the ADD_ONION on, and each run
        does nothing until tor has built a circuit; the next run, a second later, uploads
        once the introduction circuits are up. Added before bootstrap ends, the service waits
        up to a second for the first useful run (a restart: ADD_ONION and bootstrap come
        within tens of ms, so ~1 s lost every time); added at that moment, tor picks its
        introduction points at once. Details: apaf/tor/README.md. The first start and every
        tor restart (`_republish`) come through here.
        """
        task = self._publishing.get(name)
        if task is None or task.done():
            self._publishing[name] = asyncio.create_task(self._publish_once_bootstrapped(name))

    async def _publish_once_bootstrapped(self, name: str) -> None:
        # Waits without the lock: admin actions go on while tor bootstraps (or cannot).
        while True:
            await self.tor.wait_bootstrapped()
            async with self._ops:
                # The owner may have stopped the service or the app meanwhile.
                if not (self.settings.service_running and name in self.apps) or self.onions.get(name).active:
                    return
                if not self.tor.bootstrapped:
                    continue  # tor restarted while this waited for the lock: wait for the new one
                # Every app waiting for this moment, in one write (apaf/tor/batch.py says why).
                waiting = [n for n, task in self._publishing.items()
                           if not task.done() and n in self.apps and not self.onions.get(n).active]
                try:
                    await self.onions.publish_all({n: self._ports(n) for n in waiting})
                except (OnionError, TorStartError) as err:
                    # No caller to raise to; the service stays unpublished (if tor died just
                    # now, its restart schedules this again).
                    log.error("%s", err)
                    return
            self._write_status()
            return

    async def _publication(self, name: str, timeout: float) -> None:
        """Wait (up to `timeout` s) for a publication _publish_when_tor_is_ready scheduled."""
        task = self._publishing.get(name)
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)

    def _ports(self, name: str) -> dict[int, str]:
        """Onion virtual port -> the app's "host:port"; every listed port reaches the one server."""
        app = self.apps[name]
        return {virt: f"{app.host}:{app.port}" for virt in self.manifests[name].ports}

    async def _stop_app(self, name: str) -> None:
        await self.onions.unpublish(name)
        app = self.apps.pop(name, None)
        if app:
            await app.stop()

    async def _start_admin(self) -> None:
        try:
            # In a worker thread (aiohttp and jinja2 take tenths of a second): the event loop
            # meanwhile connects to tor and adds the onion services.
            serve = (await asyncio.to_thread(importlib.import_module, "apaf.admin")).serve
        except ImportError as err:  # the admin UI may be absent from a minimal build
            log.warning("admin UI not available (%s); running without it", err)
            return
        # serve() marks admin-ready itself: the login page answers before a first boot's
        # password hash is on disk (admin/password.py), and returns once it is.
        self.admin_server = await serve(self, self.layout.root, host="127.0.0.1", port=self.admin_port,
                                        announce=self.announce)

    async def _tor_restarted(self) -> None:
        async with self._ops:
            await self._republish()
        self._write_status()

    async def _republish(self) -> None:
        """A new tor process knows none of our onion services: add them again once it has
        bootstrapped, as at start (`_publish_when_tor_is_ready`).

        Called under _ops (by `_tor_restarted`, or by the torrc editor as `restarted=`, also
        after a refused edit brought the previous tor configuration back); returns at once:
        the ADD_ONIONs wait for bootstrap in their own tasks, not holding the lock. Until
        then the services show as not published; a reachability test waits for them.
        """
        self.onions.forget_active()
        if self.settings.service_running:
            for name in self.apps:
                self._publish_when_tor_is_ready(name)

    def _tor_event(self, event) -> None:
        if event.type == "HS_DESC":
            self.onions.on_hs_desc(event)

    # -- status -------------------------------------------------------------------------
    def _changed(self) -> None:
        """Coalesce bursts of changes (bootstrap events) into one status write."""
        if not self._write_pending:
            self._write_pending = True
            asyncio.get_running_loop().call_soon(self._write_status)

    def _write_status(self) -> None:
        self._write_pending = False
        ensure_private_dir(self.layout.run)
        status = self.status_dict()
        atomic_write(self.layout.status, json.dumps(status, indent=2) + "\n", mode=0o600)
        # Apps with tor-status get tor's state only: the list of apps would tell one app the
        # other services' .onion addresses, which the owner may keep unlinked.
        # Readable by others: it sits in the 0700 run/ directory, and an app started by a root
        # runtime (its own uid) reaches it only with tor-status (apaf.sandbox.account).
        ensure_private_dir(self.layout.app_status.parent, mode=0o755)
        atomic_write(self.layout.app_status, json.dumps({"tor": status["tor"]}, indent=2) + "\n", mode=0o644)

    def status_dict(self) -> dict:
        tor = self.tor
        apps = []
        for name, m in self.manifests.items():
            svc = self.onions.get(name) if self.onions else None
            app = self.apps.get(name)
            apps.append({
                "name": name, "title": m.title, "enabled": name in self._enabled(),
                "running": bool(app and app.running), "onion": svc.onion if svc else None,
                # tor gone (a crash, back-off before the restart): so is every service
                "published": bool(svc and svc.published and tor and tor.running),
                "reachability": self.reachability.get(name),
                "privileges": sandbox.privileges_status(m.privileges),
            })
        return {
            "tor": {"running": bool(tor and tor.running), "version": tor.version if tor else "",
                    "bootstrap": tor.bootstrap if tor else 0, "summary": tor.summary if tor else "",
                    "socks": tor.socks if tor else "",
                    # tor's own seccomp filter, as the kernel reports it (apaf.tor.sandbox)
                    "sandbox": tor.sandbox_status() if tor else {"on": False, "why_off": "tor is not running"}},
            "apps": apps,
            "service_running": self.settings.service_running and bool(tor and tor.running),
            # Apps read this file: the secret admin URL must not be in it (admin/keys.py).
            "admin": self.admin_server.listen_url if self.admin_server is not None else None,
            "pid": os.getpid(),
            "sandbox": sandbox.status(),
        }

    # -- RuntimeControl -----------------------------------------------------------------
    async def status(self) -> dict:
        return self.status_dict()

    async def start_service(self) -> None:
        async with self._ops:
            self.settings.service_running = True
            self.settings.save(self.layout.settings)
            await self.onions.publish_all({n: self._ports(n) for n in self.apps if not self.onions.get(n).active})
        self._write_status()

    async def stop_service(self) -> None:
        async with self._ops:
            self.settings.service_running = False
            self.settings.save(self.layout.settings)
            for name in self.apps:
                await self.onions.unpublish(name)
        self._write_status()

    def available_apps(self) -> list[dict]:
        enabled = self._enabled()
        return [{"name": n, "title": m.title, "enabled": n in enabled} for n, m in self.manifests.items()]

    async def set_enabled_apps(self, names: list[str]) -> None:
        unknown = [n for n in names if n not in self.manifests]
        if unknown:
            raise ValueError(f"unknown app {unknown[0]!r}; available: {', '.join(self.manifests)}")
        async with self._ops:
            self.settings.enabled_apps = [n for n in self.manifests if n in names]
            self.settings.save(self.layout.settings)
            for name in [n for n in self.apps if n not in names]:
                await self._stop_app(name)
            for name in [n for n in self.settings.enabled_apps if n not in self.apps]:
                await self._start_app(name)
        self._write_status()

    def quit(self) -> None:
        if self.on_quit is not None:
            self.on_quit()

    def tor2web_allowed(self) -> bool:
        return self.settings.allow_tor2web

    async def set_tor2web(self, allow: bool) -> None:
        """Save the choice and restart the running apps with it (same ports, same onions)."""
        async with self._ops:
            if self.settings.allow_tor2web == allow:
                return
            self.settings.allow_tor2web = allow
            self.settings.save(self.layout.settings)
            for app in self.apps.values():
                app.env["APAF_ALLOW_TOR2WEB"] = "1" if allow else "0"
                await app.restart()
        self._write_status()

    async def test_reachability(self, name: str, timeout: float = 90.0) -> dict:
        if name not in self.manifests:
            raise ValueError(f"unknown app {name!r}; available: {', '.join(self.manifests)}")
        svc = self.onions.get(name)
        await self._publication(name, timeout)
        if name not in self.apps or not svc.active:
            result = {"ok": False, "seconds": 0.0, "at": now_iso(),
                      "error": "the onion service is not running; enable the app and start the service"}
        else:
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                # Asking before the descriptor is uploaded makes tor avoid those HSDirs for a while.
                await self.onions.wait_published(name, timeout)
            except asyncio.TimeoutError:
                pass
            result = await fetch_onion(self.tor.socks, svc.onion, self.manifests[name].http_port,
                                       timeout=max(5.0, timeout - (loop.time() - started)))
            result["seconds"] = round(loop.time() - started, 3)
            result.pop("status", None)
        self.reachability[name] = result
        self._write_status()
        return result

    def torrc_extra(self) -> str:
        try:
            return self.layout.torrc_extra.read_text()
        except FileNotFoundError:
            return ""

    async def apply_torrc_extra(self, text: str) -> str | None:
        """Policy, `tor --verify-config`, live apply + read-back, and only then save.

        One lock around all of it: two edits never interleave, and a tor restart
        (which re-publishes services) waits.  Any failure leaves the saved text, the
        running configuration and the tor process as they were.  An edit that switches
        tor's own sandbox restarts tor (apaf.tor.process); the returned note says so.
        """
        async with self._ops:
            entries = policy.check(text)
            await self.tor.verify(text)

            previous = self.tor.extra
            sandboxed = self.tor.sandbox_wanted()
            await self.tor.apply(text, lambda ctl: policy.read_back(ctl, entries),
                                 restarted=self._republish)
            try:
                atomic_write(self.layout.torrc_extra, text, mode=0o600)
            except OSError as err:
                await self.tor.apply(previous, lambda ctl: None, restarted=self._republish)
                raise TorrcRejected(f"could not save the settings ({err}); "
                                    "the previous configuration is back") from None
        self._write_status()
        if sandboxed and not self.tor.sandbox_wanted():
            return f"tor was restarted without its own sandbox: {TRANSPORTS}."
        if self.tor.sandbox_wanted() and not sandboxed:
            return "tor was restarted with its own sandbox on again."
        return None

    def _startup_extra(self) -> str:
        """The saved extra lines, unless the policy refuses them (an older runtime saved them)."""
        text = self.torrc_extra()
        try:
            policy.check(text)
        except TorrcRejected as err:
            log.warning("not using %s: %s; fix it under Tor settings in the admin UI",
                        self.layout.torrc_extra, err)
            return ""
        return text

    def splash_image(self) -> Path | None:
        for name in self._enabled() + list(self.manifests):
            if self.manifests[name].splash:
                return self.manifests[name].splash
        return None

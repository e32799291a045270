"""One tor daemon of the private network: write its torrc, start it, talk to it, kill it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import stem.connection
import stem.socket
from stem.control import Controller

from apaf.testnet.errors import TestnetError
from apaf.testnet.keys import empty_file
from apaf.testnet.torrc import render


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 right now (held open together while picked)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): reap it if it is ours, else read its state.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def kill_pid(pid: int | None, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """Send `sig` to `pid` and wait until it is gone (SIGKILL after `wait` seconds)."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while pid_alive(pid):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
        time.sleep(0.05)


@dataclass
class TorNode:
    """A tor daemon with its own data directory and control port.

    `lines` is its whole torrc (see `apaf.testnet.torrc.common()` for the lines every node
    needs: DataDirectory, ControlPort with cookie auth, log). `start()` returns once the
    control port answers; `controller()` opens an authenticated stem controller (close it
    yourself, or use it in a `with`).
    """

    name: str
    datadir: Path
    tor_binary: str
    control_port: int
    lines: list[str]
    pid: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    _proc: subprocess.Popen | None = field(default=None, repr=False, compare=False)
    _owner: Controller | None = field(default=None, repr=False, compare=False)

    @property
    def torrc(self) -> Path:
        return self.datadir / "torrc"

    @property
    def log(self) -> Path:
        return self.datadir / "notice.log"

    def write_torrc(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir, 0o700)
        self.torrc.write_text(render(self.lines))

    def start(self, *, detach: bool = False, timeout: float = 30.0) -> None:
        """Start tor and wait for its control port; with `detach` it survives this process."""
        self.spawn(detach=detach)
        self.ready(detach=detach, timeout=timeout)

    def spawn(self, *, detach: bool = False) -> None:
        """Start the tor process without waiting (then call `ready()`)."""
        self.write_torrc()
        cmd = [self.tor_binary, "--defaults-torrc", str(empty_file(self.datadir.parent)), "-f", str(self.torrc)]
        with open(self.datadir / "stdout.log", "ab") as out:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=detach, close_fds=True,
            )
        self.pid = proc.pid
        self._proc = proc

    def ready(self, *, detach: bool = False, timeout: float = 30.0) -> None:
        """Wait until the control port answers; unless `detach`, take ownership of tor."""
        self.wait_control(timeout)
        if not detach:
            # Owned: tor exits as soon as this connection closes, so also when this process
            # dies, even by SIGKILL. (Not __OwningControllerProcess in the torrc: tor sets
            # it again on every reload, the next stem Controller of this pid then takes
            # ownership, and closing that one stops tor.)
            self._owner = self.controller()
            self._owner.msg("TAKEOWNERSHIP")

    def wait_control(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise TestnetError(f"tor node {self.name} exited while starting:\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.control_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise TestnetError(f"tor node {self.name}: control port {self.control_port} not open after {timeout:.0f} s:\n{self.tail()}")

    def alive(self) -> bool:
        if self._proc is not None and self._proc.pid == self.pid:
            return self._proc.poll() is None
        return pid_alive(self.pid)

    def controller(self) -> Controller:
        ctl = Controller.from_port(address="127.0.0.1", port=self.control_port)
        ctl.authenticate()
        return ctl

    def reload(self) -> None:
        """What SIGHUP does (re-read torrc, republish, reset download back-off), sent over
        the control port: a real SIGHUP right after start, before tor installs its signal
        handlers, kills it."""
        # A bare control socket: stem's Controller deadlocks on close() while its event
        # thread handles the SIGNAL RELOAD event this causes (stem 1.8).
        control = stem.socket.ControlPort("127.0.0.1", self.control_port)
        try:
            stem.connection.authenticate(control)
            control.send("SIGNAL RELOAD")
            reply = control.recv()
            if not reply.is_ok():
                raise TestnetError(f"tor node {self.name} refused SIGNAL RELOAD: {reply}")
        finally:
            control.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send `sig` (SIGKILL: a crash, no clean shutdown) and wait until tor is gone."""
        if self._proc is not None and self._proc.pid == self.pid:
            if self._proc.poll() is None:
                self._proc.send_signal(sig)
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
        else:
            kill_pid(self.pid, sig)
        if self._owner is not None:  # only after the signal: closing it makes tor exit cleanly
            self._owner.close()
            self._owner = None

    def tail(self, lines: int = 20) -> str:
        text = ""
        for path in (self.datadir / "stdout.log", self.log):
            if path.exists():
                text += "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
        return text

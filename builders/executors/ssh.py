"""Run a step on a remote Linux or macOS machine over SSH (paramiko), `--builder ssh:NAME`.

What differs per OS (probe, checks, identity, the command that runs the
uploaded step: namespaces on Linux, a locked root under sandbox-exec on
macOS) is the inventory `os`'s module in platforms/; the rest is shared.

NAME is a host of the inventory (builders/inventory.py). Host keys are
checked against the host's known_hosts and an unknown key is refused (the
error says how to trust it); authentication is by key only. Each attempt
uploads the job's read-only inputs over SFTP (one tar), runs the very same
`unshare` namespace script as the local builder with the paths rewritten to
the remote folder, streams the output into the log, downloads `out/` over
SFTP and removes the remote folder. A dropped link re-runs the step up to
`retries` more times, then fails naming host and step; `job.out_dir` is
emptied between attempts, so nothing partial reaches the cache. A link that
goes silent without closing is noticed within the host's `link_timeout`
(linkwatch.py) and counts as dropped; a step that is merely quiet is never
cut. A step cut off from its link is killed on the host and its folder
removed as soon as the host's sshd notices the link is gone. The remote
needs `unshare`, `tar`, `/srv`, and root or user namespaces.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import shlex
import shutil
import socket
import tarfile
import threading
import time
from base64 import b64encode

from ..errors import ConfigError, ExecutorError, StepFailed
from ..inventory import Host, get_host
from ..recipes import Target
from . import register
from .base import Job, RunResult, job_env
from .layout import stage
from .linkwatch import CountingSocket, LinkWatch
from .platforms import get as get_platform
from .remote_dir import checked_work_dir
from .sandbox import extract_outputs, job_mounts


class LinkLost(Exception):
    """The SSH connection broke (not the step): worth another attempt."""


def _fingerprint(key) -> str:
    return "SHA256:" + b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class _RefuseUnknown:
    """paramiko host key policy: never trust a key that known_hosts does not list; say how to."""

    def __init__(self, host: Host):
        self.host = host

    def missing_host_key(self, client, hostname, key):
        h = self.host
        port = f"-p {h.port} " if h.port != 22 else ""
        raise ExecutorError(
            f"SSH builder '{h.name}': host key of {hostname} ({key.get_name()} {_fingerprint(key)}) is not in "
            f"{h.known_hosts}, so the connection was refused.\n  If that fingerprint is the host's "
            f"(ask its admin, or run `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on it), trust it with:\n"
            f"    ssh-keyscan {port}-t {key.get_name()} {h.host} >> {h.known_hosts}")


def _hang_up_with_link(command: str, new_group: str = "setsid", *, work: str = "", end: str = "") -> str:
    """command in its own process group, killed (and `work` removed) as soon as our end of the link goes away.

    With no pty a remote step outlives a dropped link; here a reader of stdin
    (which we never close) sees EOF when sshd's session dies, kills the group and
    removes the step's folder: when the link never comes back nobody else can.
    With `end`, the finished step prints `<end> <status>` and the session stays
    open until our side closes it, after collecting the outputs: a link lost
    after the step ended but before they were collected still removes `work`.
    """
    cleanup = ""
    if work:
        # Wait (bounded) for the killed group to be gone so nothing writes into the folder after rm.
        cleanup = ("; n=0; while kill -0 -$p 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done"
                   f"; rm -rf {shlex.quote(work)}")
    return (f"{new_group} /bin/sh -c {shlex.quote(command)} & p=$!; "
            # A background job's stdin is /dev/null unless redirected: hand it ours explicitly.
            # Once the link is gone the watchdog ignores TERM: the `kill $w` below, run when the
            # killed step's `wait` returns, must not cut its cleanup short.
            f"exec 3<&0; (cat <&3 >/dev/null; trap '' TERM; kill -KILL -$p 2>/dev/null{cleanup}) & w=$!; "
            + (f"wait $p; rc=$?; echo {end} $rc; wait $w; exit $rc" if end else
               "wait $p; rc=$?; kill $w 2>/dev/null; exit $rc"))


def _alive(client) -> bool:
    transport = client.get_transport()
    return transport is not None and transport.is_active()


@register("ssh")
class SSHExecutor:
    def __init__(self, name: str = "", jobs: int | None = None, source_date_epoch: int | None = None,
                 inventory=None):
        if not name:
            raise ConfigError("the ssh builder needs a host name from the inventory: --builder ssh:NAME")
        self.host = get_host(name, inventory)
        self.name = f"ssh:{name}"
        # What differs per remote OS (probe, checks, toolchain identity, the step's command).
        self.platform = get_platform(self.host.os, self.host)
        self.os = self.host.os
        self.jobs = jobs
        self.source_date_epoch = source_date_epoch or 0
        self._facts: dict | None = None
        self._stale: list[str] = []          # remote folders of attempts cut short, removed when next connected
        self._lock = threading.Lock()
        self._clients: dict = {}             # open client -> its LinkWatch
        self._cancelled = False

    # -- connection -------------------------------------------------------
    def _connect(self):
        import paramiko

        h = self.host
        if not h.known_hosts.is_file():
            raise ExecutorError(f"SSH builder '{h.name}': known_hosts file {h.known_hosts} does not exist; "
                                f"create it with: ssh-keyscan -p {h.port} {h.host} >> {h.known_hosts} "
                                "(after checking the fingerprint)")
        if not h.key.is_file():
            raise ConfigError(f"SSH builder '{h.name}': private key {h.key} does not exist (key = in the inventory)")
        client = paramiko.SSHClient()
        client.load_host_keys(str(h.known_hosts))
        client.set_missing_host_key_policy(_RefuseUnknown(h))
        sock = None
        try:
            # Our own socket, so the link watch can see bytes arriving (proof of life).
            sock = CountingSocket(socket.create_connection((h.host, h.port), timeout=h.connect_timeout))
            client.connect(h.host, port=h.port, username=h.user, key_filename=str(h.key), look_for_keys=False,
                           allow_agent=False, timeout=h.connect_timeout, banner_timeout=h.connect_timeout,
                           auth_timeout=h.connect_timeout, sock=sock)
        except paramiko.BadHostKeyException as exc:
            raise ExecutorError(f"SSH builder '{h.name}': the host key of {h.host} CHANGED (got "
                                f"{_fingerprint(exc.key)}): this may be an attack. If the host was reinstalled, "
                                f"remove its old line from {h.known_hosts} and trust the new key") from exc
        except paramiko.AuthenticationException as exc:
            raise ExecutorError(f"SSH builder '{h.name}': {h.address} refused key {h.key}: {exc}; "
                                f"add the public key to ~{h.user}/.ssh/authorized_keys there") from exc
        except ExecutorError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            if sock is not None:
                sock.close()
            raise LinkLost(f"cannot connect to {h.address}: {exc}") from exc
        watch = LinkWatch(client.get_transport(), h.link_timeout, h.name, lambda: sock.received)
        watch.start()
        with self._lock:
            self._clients[client] = watch
        return client

    def _close(self, client) -> None:
        with self._lock:
            watch = self._clients.pop(client, None)
        if watch:
            watch.stop()
        client.close()

    def _lost(self, client, exc: BaseException | str) -> LinkLost:
        """LinkLost for a link that is gone, saying it went silent when the watch closed it."""
        with self._lock:
            watch = self._clients.get(client)
        return LinkLost((watch and watch.dead) or str(exc) or type(exc).__name__)

    def _exec(self, client, command: str, log=None) -> tuple[int, str]:
        """Run command; stream lines to log (else collect them); LinkLost if the link drops."""
        chan = self._open(client, command)
        try:
            return self._read(client, chan, log)
        finally:
            chan.close()

    def _open(self, client, command: str):
        """A session channel running command (stdout and stderr combined); LinkLost if the link is gone."""
        import paramiko
        try:
            chan = client.get_transport().open_session(timeout=self.host.link_timeout)
            chan.set_combine_stderr(True)
            chan.exec_command(command)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if _alive(client):
                raise
            raise self._lost(client, exc) from exc
        return chan

    def _read(self, client, chan, log=None, end: bytes = b"") -> tuple[int, str]:
        """(status, output) of chan's command: at its exit, or at the line `<end> <status>` (channel left open)."""
        out, pending = [], b""
        while True:
            data = chan.recv(65536)
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if end and line.startswith(end + b" ") and line[len(end) + 1:].isdigit():
                    return int(line[len(end) + 1:]), "\n".join(out)
                (log or out.append)(line.decode(errors="replace"))
        if pending:
            (log or out.append)(pending.decode(errors="replace"))
        status = chan.recv_exit_status()
        if status == -1:  # the channel closed without an exit status: the link, not the command
            raise self._lost(client, "the connection closed while the command was running")
        return status, "\n".join(out)

    def _must(self, client, command: str, job: Job, what: str) -> None:
        status, out = self._exec(client, command)
        if status != 0:
            raise ExecutorError(f"SSH builder '{self.host.name}' could not {what} for {job.step_id} in "
                                f"{self.host.work_dir} (exit {status}): {out.strip()[-500:]}")

    def _probe(self) -> dict:
        if self._facts is None:
            client = self._call(self._connect)
            try:
                _, out = self._exec(client, self.platform.probe)
                self._facts = self.platform.parse(out)
            finally:
                self._close(client)
        return self._facts

    def _call(self, fn):
        """fn() with LinkLost turned into a clear error (for the short probe calls)."""
        try:
            return fn()
        except (LinkLost, OSError, EOFError) as exc:
            raise ExecutorError(f"SSH builder '{self.host.name}' ({self.host.address}) is unreachable: {exc}") from exc

    def _run(self, command: str) -> tuple[int, str]:
        """One short command on a fresh connection (for the platform's checks)."""
        client = self._call(self._connect)
        try:
            return self._exec(client, command)
        finally:
            self._close(client)

    # -- the Executor interface ------------------------------------------
    def check(self, target: Target) -> None:
        h = self.host
        if not h.can_build(target.name):
            raise ConfigError(f"SSH builder '{h.name}' does not build {target.name} (its targets: "
                              f"{', '.join(h.targets)}); pick another builder or add it to `targets`")
        self.platform.check(f"SSH builder '{h.name}' ({h.host})", self._probe(), target, self._run)

    def identity(self, target: Target) -> str:
        return self.platform.identity(self._probe(), target, self._run)

    def run(self, job: Job, log) -> RunResult:
        mounts = job_mounts(job, stage(job))
        h = self.host
        for attempt in range(1, h.retries + 2):
            try:
                return self._attempt(job, mounts, log)
            except LinkLost as exc:
                shutil.rmtree(job.out_dir, ignore_errors=True)  # never keep a half download
                job.out_dir.mkdir(parents=True)
                if self._cancelled:
                    raise StepFailed(f"step {job.step_id} was cancelled on SSH builder '{h.name}'") from exc
                if attempt > h.retries:
                    self._sweep()
                    raise ExecutorError(f"lost the link to SSH builder '{h.name}' ({h.address}) during step "
                                        f"{job.step_id}, {attempt} attempts: {exc}\n  nothing of it was cached; "
                                        "check the network or the host, then run the build again") from exc
                log(f"! link to {h.name} lost ({exc}); attempt {attempt + 1} of {h.retries + 1} "
                    f"in {h.retry_delay:.0f}s")
                time.sleep(h.retry_delay)
        raise AssertionError("unreachable")

    def _attempt(self, job: Job, mounts, log) -> RunResult:
        import paramiko

        facts = self._probe()
        client = self._connect()
        try:
            work = self._work_dir(client)
        except BaseException:
            self._close(client)
            raise
        rdir = f"{work}/{re.sub(r'[^A-Za-z0-9_.-]', '_', job.step_id)}-{secrets.token_hex(6)}"
        step = None
        try:
            with self._lock:  # only folders of attempts that lost their link, never a running step's
                stale, self._stale = self._stale, []
            q = shlex.quote
            # mkdir without -p: the step's folder must be a new one, made by us.
            self._must(client, " ".join(["rm -rf", *map(q, stale), ";", "umask 077 && mkdir",
                                         q(rdir), q(f"{rdir}/build"), q(f"{rdir}/out")]), job, "make the work folder")
            sftp = client.open_sftp()
            with sftp.open(f"{rdir}/inputs.tar", "wb") as f:
                f.set_pipelined(True)
                with tarfile.open(fileobj=f, mode="w|") as tar:
                    for rel, host_path, _, ro in mounts:
                        if ro:
                            tar.add(str(host_path), arcname=rel)
            self._must(client, f"cd {q(rdir)} && tar -xf inputs.tar && rm inputs.tar", job, "unpack the inputs")
            env = job_env(job, self.jobs or facts["nproc"], self.source_date_epoch)
            command, shown = self.platform.step_command(rdir, mounts, env, network=job.network, facts=facts)
            log(f"+ ssh {self.host.name}: {shown}  ({job.step_id})")
            end = f"apaf-step-end-{secrets.token_hex(8)}"   # unguessable by the step's own output
            step = self._open(client, _hang_up_with_link(command, self.platform.new_group, work=rdir, end=end))
            status, _ = self._read(client, step, log, end.encode())
            if status != 0:
                raise StepFailed(f"step {job.step_id} failed on SSH builder '{self.host.name}' (exit {status})")
            self._must(client, f"cd {q(rdir)}/out && COPYFILE_DISABLE=1 tar -cf ../out.tar .", job, "pack the outputs")
            with sftp.open(f"{rdir}/out.tar", "rb") as f:
                f.prefetch()
                extract_outputs(f, job.out_dir)
        except LinkLost:
            self._remove_later(rdir)
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if _alive(client):  # the link is fine: the host refused something (sftp, disk): retrying won't help
                raise ExecutorError(f"SSH builder '{self.host.name}' ({self.host.address}) failed during "
                                    f"{job.step_id}: {exc or type(exc).__name__}") from exc
            self._remove_later(rdir)
            raise self._lost(client, exc) from exc
        finally:
            if _alive(client):
                try:
                    self._exec(client, f"rm -rf {shlex.quote(rdir)}")
                except (LinkLost, OSError, EOFError, paramiko.SSHException):
                    self._remove_later(rdir)
            if step is not None:
                step.close()    # lets the host side of the step finish (it removes rdir if still there)
            self._close(client)
        return RunResult()

    def _work_dir(self, client) -> str:
        """work_dir made if missing, then resolved and checked on the host (remote_dir.py says why).

        Every attempt: a folder that vanished (a reboot emptying /tmp) may come back as another's."""
        import paramiko
        h = self.host
        status, out = self._exec(client, f"umask 077 && mkdir -p {shlex.quote(h.work_dir)} && id -u")
        uid = (out.strip().splitlines() or [""])[-1]
        if status != 0 or not uid.isdigit():
            raise ExecutorError(f"SSH builder '{h.name}' could not make its work_dir {h.work_dir} "
                                f"(exit {status}): {out.strip()[-500:]}")
        try:
            sftp = client.open_sftp()
            try:
                return checked_work_dir(sftp, h.work_dir, int(uid), h.name)
            finally:
                sftp.close()
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if _alive(client):
                raise ExecutorError(f"SSH builder '{h.name}' could not check its work_dir {h.work_dir}: "
                                    f"{exc or type(exc).__name__}") from exc
            raise self._lost(client, exc) from exc

    def _remove_later(self, rdir: str) -> None:
        with self._lock:
            self._stale.append(rdir)

    def _sweep(self) -> None:
        """Best effort: remove the remote folders of attempts the link cut short."""
        import paramiko
        if not self._stale:
            return
        try:
            client = self._connect()
        except (LinkLost, ExecutorError, paramiko.SSHException):
            return
        try:
            with self._lock:
                stale, self._stale = self._stale, []
            self._exec(client, "rm -rf " + " ".join(map(shlex.quote, stale)))
        except (LinkLost, OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            self._close(client)

    def cancel(self) -> None:
        """Close every connection (Ctrl-C): remote steps lose their output pipe and stop."""
        self._cancelled = True
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            c.close()

"""Run a step in a container from the target's toolchain image (docker SDK).

The image is `apaf/<target.image>:<definition hash>`, made by `ci/farm
images.build` (never pulled); its id is this executor's identity. The step
sees the same fixed paths as on the local builder. With the engine on this
machine the inputs are bind-mounted read-only; with a remote engine
(`DOCKER_HOST=ssh://…` or tcp), or when the farm itself runs in a container,
they are copied into the container instead, since the engine cannot see our
files (`APAF_DOCKER_COPY=1|0` forces either). The network is off (`none`) unless the
recipe is a pinned fetch step. Outputs are copied out of the container into
`job.out_dir` (owned by whoever runs the farm); the container is removed on
success, failure, `docker kill` and Ctrl-C (`cancel`); those of a farm
process that was killed outright are removed by the next `check`.
"""
from __future__ import annotations

import io
import os
import platform
import tarfile
import threading
from pathlib import Path

from ..errors import ConfigError, ExecutorError, StepFailed, ToolMissing
from ..images import docker_client, image_id, load_image
from ..recipes import Target
from . import register
from .base import OUT_DIR, RECIPE_DIR, Job, RunResult, job_env
from .layout import stage
from ..cache import pid_alive
from .sandbox import build_command, extract_outputs, job_mounts

LOCAL_SCHEMES = ("http+docker://localhost", "http+docker://localnpipe")
_HOST = platform.node()
CA_VARS = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
CPU_MARKER = "apaf-step-cpu: "
STEP_SILENCE = 3600   # seconds a step may print nothing before the engine call gives up


def _shell_times(text: str) -> float:
    """User + system seconds from the children line of sh's `times` ("1m2.5s 0m3.25s")."""
    total = 0.0
    for field in text.split():
        minutes, _, seconds = field.rstrip("s").partition("m")
        try:
            total += int(minutes) * 60 + float(seconds)
        except ValueError:
            return 0.0
    return total


class _ChunkReader(io.RawIOBase):
    """A file object over the byte chunks the SDK yields, for streaming tar extraction."""

    def __init__(self, chunks):
        self.chunks, self.buf = iter(chunks), b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self.buf:
            try:
                self.buf = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self.buf))
        b[:n], self.buf = self.buf[:n], self.buf[n:]
        return n


def _inputs_tar(mounts) -> bytes:
    """The read-only mounts as one tar rooted at /, for engines that cannot see this machine's files."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for _, host, inside, ro in mounts:
            if ro:
                tar.add(str(host), arcname=inside.lstrip("/"))
    return data.getvalue()


@register("docker")
class DockerExecutor:
    name = "docker"

    def __init__(self, jobs: int | None = None, source_date_epoch: int | None = None,
                 copy_inputs: bool | None = None):
        self.jobs = jobs or os.cpu_count() or 1
        self.source_date_epoch = source_date_epoch or 0
        self._copy = copy_inputs
        self._client = None
        self._tag: str | None = None   # the image of the target this builder was checked for
        self._containers: set = set()
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            self._client = docker_client(timeout=STEP_SILENCE)
        return self._client

    def _image(self, target: Target) -> tuple[str, str]:
        if not target.image:
            raise ConfigError(f"target {target.name} names no toolchain image (`image = \"...\"` in "
                              f"{target.path}), so the docker builder cannot run it")
        tag = load_image(target.image).tag
        if self._tag not in (None, tag):
            raise ConfigError(f"this docker builder already runs steps in {self._tag}; target {target.name} "
                              f"needs {tag}: use one builder per image")
        found = image_id(self.client, tag)
        if not found:
            raise ToolMissing(f"the docker builder needs image {tag}, which this engine does not have: "
                              f"run `ci/farm images.build --name {target.image}`")
        self._tag = tag
        return tag, found

    def check(self, target: Target) -> None:
        self._sweep_orphans()
        self._image(target)

    def _sweep_orphans(self) -> None:
        """Remove step containers of farm processes on this machine that died without cleaning up (kill -9)."""
        import docker
        for c in self.client.containers.list(all=True, filters={"label": ["apaf.step", f"apaf.host={_HOST}"]}):
            pid = int(c.labels.get("apaf.pid", "0") or 0)
            if pid and not pid_alive(pid):
                try:
                    c.remove(force=True)
                except docker.errors.APIError:
                    pass

    def identity(self, target: Target) -> str:
        return f"docker:{self._image(target)[1]}"

    def _copy_mode(self) -> bool:
        """Copy inputs in when the engine cannot see our files: a remote engine, or we run in a container."""
        if self._copy is not None:
            return self._copy
        if os.environ.get("APAF_DOCKER_COPY") in ("0", "1"):
            return os.environ["APAF_DOCKER_COPY"] == "1"
        return not self.client.api.base_url.startswith(LOCAL_SCHEMES) or os.path.exists("/.dockerenv")

    def run(self, job: Job, log) -> RunResult:
        import docker

        tag = self._tag
        if tag is None:
            raise ConfigError(f"internal: step {job.step_id} reached the docker builder before check(target) "
                              "named its image")
        mounts = [m for m in job_mounts(job, stage(job)) if m[0] not in ("build", "out")]
        env = job_env(job, self.jobs, self.source_date_epoch)
        if job.network:
            # A pinned download step trusts what this machine trusts (a TLS-inspecting proxy's CA):
            # the CA files its environment names are given to the container at the same paths.
            for var in CA_VARS:
                if env.get(var) and os.path.isfile(env[var]):
                    mounts.append((f"ca/{var}", Path(env[var]), env[var], True))
        copy = self._copy_mode()
        volumes = {} if copy else {str(host): {"bind": inside, "mode": "ro"} for _, host, inside, _ in mounts}
        # build/ and out/ live in the container's own layer; out/ is copied out after a clean exit.
        # The step's CPU time is gone with the container's cgroup once it exits, so the shell reports
        # its children's (`times`, in the shell itself: a subshell's count starts at zero) on a marker
        # line the log loop takes out.
        command = ["/bin/sh", "-c", f"mkdir -p {env['HOME']} {OUT_DIR} && ({build_command(env)}); rc=$?; "
                                    f"times > {env['HOME']}/.cpu; echo \"{CPU_MARKER}$(tail -n 1 {env['HOME']}/.cpu)\"; exit $rc"]
        log(f"+ docker run --network {'default' if job.network else 'none'} {tag} sh build.sh  ({job.step_id})")
        try:
            container = self.client.containers.create(
                tag, command, working_dir=RECIPE_DIR, volumes=volumes, user="0:0",
                network_mode="bridge" if job.network else "none", detach=True,
                labels={"apaf.step": job.step_id, "apaf.host": _HOST, "apaf.pid": str(os.getpid())})
        except docker.errors.DockerException as exc:
            raise ExecutorError(f"could not create a container for {job.step_id} from {tag}: {exc}") from exc
        with self._lock:
            self._containers.add(container)
        try:
            if copy:
                container.put_archive("/", _inputs_tar(mounts))
            container.start()
            pending, cpu = b"", 0.0
            for chunk in container.logs(stream=True, follow=True):   # frames may end mid-line
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    text = line.decode(errors="replace")
                    if text.startswith(CPU_MARKER):
                        cpu = _shell_times(text[len(CPU_MARKER):])
                    else:
                        log(text)
            if pending:
                log(pending.decode(errors="replace"))
            status = container.wait()["StatusCode"]
            if status != 0:
                why = " (killed)" if status == 137 else ""
                raise StepFailed(f"step {job.step_id} failed in container {container.short_id} (exit {status}{why})")
            self._copy_out(container, job)
        except docker.errors.NotFound as exc:
            raise StepFailed(f"step {job.step_id}: its container went away mid-step (removed or cancelled)") from exc
        except docker.errors.DockerException as exc:
            raise ExecutorError(f"the Docker engine failed during {job.step_id}: {exc}") from exc
        finally:
            self._remove(container)
        return RunResult(cpu_seconds=cpu)

    def _copy_out(self, container, job: Job) -> None:
        bits, _ = container.get_archive(OUT_DIR + "/.")
        extract_outputs(io.BufferedReader(_ChunkReader(bits), 1 << 20), job.out_dir)

    def _remove(self, container) -> None:
        import docker
        with self._lock:
            self._containers.discard(container)
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise ExecutorError(f"could not remove container {container.short_id}: {exc}; "
                                    f"remove it with `docker rm -f {container.short_id}`") from exc

    def cancel(self) -> None:
        """Kill and remove every running step's container (Ctrl-C)."""
        with self._lock:
            running = list(self._containers)
        for container in running:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - best effort: the worker's own finally retries
                pass

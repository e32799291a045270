"""The job's mounts at the fixed paths, and the namespace script that sets them up.

Shared by every executor so the layout cannot drift: `job_mounts` lists what
goes where (read-only or not); `namespace_argv` is the `unshare` command the
local and SSH executors run (on this machine or on the remote one, with the
host paths rewritten to where the job was uploaded).
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from .base import BUILD_DIR, DEPS_DIR, INPUTS_DIR, OUT_DIR, RECIPE_DIR, ROOT, SRC_DIR, Job


def job_mounts(job: Job, staged: Path) -> list[tuple[str, Path, str, bool]]:
    """(name relative to the staging root, host path, path inside, read-only) for each mount."""
    mounts = [("recipe", staged / "recipe", RECIPE_DIR, True), ("src", staged / "src", SRC_DIR, True)]
    mounts += [(f"deps/{n}", Path(p), f"{DEPS_DIR}/{n}", True) for n, p in sorted(job.deps.items())]
    mounts += [(f"inputs/{n}", Path(p), f"{INPUTS_DIR}/{n}", True) for n, p in sorted(job.trees.items())]
    mounts += [("build", staged / "build", BUILD_DIR, False), ("out", job.out_dir, OUT_DIR, False)]
    return mounts


def build_command(env: dict[str, str]) -> str:
    """The shell command that runs build.sh from RECIPE_DIR with exactly env (nothing inherited)."""
    assigns = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
    return f"cd {RECIPE_DIR} && exec env -i {assigns} /bin/sh -e ./build.sh"


def namespace_script(binds: list[tuple[str, str, bool]], env: dict[str, str]) -> str:
    """A /bin/sh script for a fresh mount namespace: tmpfs over /srv, binds (host, inside, ro), run."""
    q = shlex.quote
    lines = ["set -e", f"mount -t tmpfs -o mode=0755 apaf-root {q(os.path.dirname(ROOT))}",
             f"mkdir -p {RECIPE_DIR} {SRC_DIR} {BUILD_DIR} {OUT_DIR}"]
    for host, inside, ro in binds:
        lines.append(f"mkdir -p {q(inside)} && mount --bind {q(str(host))} {q(inside)}")
        if ro:
            lines.append(f"mount -o remount,bind,ro {q(inside)}")
    lines.append(build_command(env))
    return "\n".join(lines)


def namespace_argv(script: str, *, network: bool, as_root: bool) -> list[str]:
    """`unshare` with private mounts and, unless network, no network; user namespace when not root."""
    cmd = ["unshare", "--mount", "--propagation", "private"]
    if not network:
        cmd.append("--net")
    if not as_root:
        cmd.append("--map-root-user")
    return cmd + ["/bin/sh", "-c", script]


def extract_outputs(fileobj, dest: Path) -> None:
    """Unpack a tar stream of a step's out/ (as remote builders send it) into dest, owned by us.

    Members are named relative to out/ ("./lib/x" or "lib/x"); nothing may land
    outside dest, and no link may lead out of it: a builder that handed back
    lib/libz.a -> /etc/shadow had the next local step, and anyone reading the cache,
    read this machine's file in its place. Files get the caller's uid/gid whatever
    the remote side used; modes are kept (tarfile's "data" filter would change them,
    and the local builder's bytes and modes are the reference).
    """
    import tarfile

    from ..errors import ExecutorError

    uid, gid = os.getuid(), os.getgid()
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=fileobj, mode="r|") as tar:
        for member in tar:
            member.name = os.path.normpath(member.name)
            if member.name == ".":
                continue
            member.uid, member.gid, member.uname, member.gname = uid, gid, "", ""
            try:
                tarfile.data_filter(member, str(dest))  # only for its checks of names and link targets
            except tarfile.FilterError as exc:
                raise ExecutorError(f"a step's output was refused: {exc} (a builder may hand back only "
                                    f"files, folders and links that stay inside its out/); nothing of "
                                    f"it is kept") from None
            tar.extract(member, dest, filter="tar")

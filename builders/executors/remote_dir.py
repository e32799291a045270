"""The SSH builder's work_dir on its host: no other account may be able to swap what is in it.

A step's folder under work_dir is made, written, unpacked, built in and packed in several
commands, each naming it by path. An account that can rename entries in work_dir or in a
folder above it (it owns one, or one is writable by group or others without the sticky
bit) can put its own folder in the step's place between two of those commands, and the
build caches the outputs it planted: a /var/tmp/apaf another user made first is enough.
So the path is resolved once on the host (no symlink left to re-point), every folder on
it is checked, and the resolved path is used from then on.
"""
from __future__ import annotations

import posixpath
import stat

from ..errors import ExecutorError


def _problem(st, uid: int) -> str:
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        return "is not a folder (it changed while it was checked)"
    if st.st_uid not in (0, uid):
        return f"belongs to another account (uid {st.st_uid})"
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        return f"is writable by other accounts (mode {stat.S_IMODE(st.st_mode):04o}, no sticky bit)"
    return ""


def checked_work_dir(sftp, path: str, uid: int, builder: str) -> str:
    """The resolved work_dir, after checking it and every folder above it (ExecutorError if unsafe).

    sftp: the host's paramiko SFTPClient; uid: the build account's uid on the host; the
    folder must exist already."""
    real = sftp.normalize(path)
    parts = [p for p in real.split("/") if p]
    for i in range(len(parts) + 1):
        folder = "/" + posixpath.join(*parts[:i]) if i else "/"
        problem = _problem(sftp.lstat(folder), uid)
        if problem:
            raise ExecutorError(
                f"SSH builder '{builder}': work_dir {path} is not safe to build in: {folder} {problem}, "
                f"so another user of the host could swap a step's folder and hand back their own outputs.\n"
                f"  Set work_dir in the inventory to a folder only the build account (uid {uid}) or root can "
                f"change, or fix it on the host (e.g. `chown {uid} {folder} && chmod go-w {folder}` once "
                f"you are sure nobody else uses it).")
    return real

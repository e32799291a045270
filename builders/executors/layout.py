"""Lay a job's inputs out in a host folder, the way every executor ships them."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .base import Job


def stage(job: Job) -> Path:
    """Write recipe files and link sources under job.work_dir; returns the staging root."""
    root = job.work_dir
    recipe = root / "recipe"
    recipe.mkdir(parents=True, exist_ok=True)
    for name, data in job.recipe_files.items():
        p = recipe / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, (0, 0))
    src = root / "src"
    src.mkdir(exist_ok=True)
    for tarball in job.sources:
        dest = src / tarball.name
        try:
            os.link(tarball, dest)
        except OSError:  # another filesystem: copy
            shutil.copy2(tarball, dest)
    (root / "build").mkdir(exist_ok=True)
    return root

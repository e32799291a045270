"""Run staticx with its archive made reproducible: member mtimes clamped, owners normalised.

staticx stamps the members it writes from temp files (the patched program and
its interpreter) with the current time and the builder's uid, and the system
libraries it copies keep their files' mtimes; set them all to SOURCE_DATE_EPOCH
and root, so the same input gives the same bytes on any builder.
"""
import os
import sys
import tarfile

EPOCH = int(os.environ["SOURCE_DATE_EPOCH"])
_addfile = tarfile.TarFile.addfile


def addfile(self, tarinfo, fileobj=None, *args, **kwargs):
    # Every member, not only the newer ones: the system libraries it copies carry
    # their builder's file mtimes, which differ between a host and a toolchain image.
    tarinfo.mtime = EPOCH
    tarinfo.uid = tarinfo.gid = 0
    tarinfo.uname = tarinfo.gname = ""
    return _addfile(self, tarinfo, fileobj, *args, **kwargs)


tarfile.TarFile.addfile = addfile

from staticx.__main__ import main  # noqa: E402  (after the patch)

if __name__ == "__main__":
    sys.exit(main())

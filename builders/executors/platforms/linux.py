"""Linux hosts: each step in private mount and network namespaces (`unshare`), Debian toolchain.

The same namespace script as the local builder, with the host paths
rewritten to where the job was uploaded; the toolchain identity is the
Debian versions of the target's packages.
"""
from __future__ import annotations

import shlex

from ...errors import ToolMissing
from ..sandbox import namespace_argv, namespace_script

PROBE = ("id -u; uname -m; nproc; command -v unshare >/dev/null && echo unshare;"
         " command -v tar >/dev/null && echo tar; test -d /srv && echo srv")


def _packages(target, run) -> tuple[dict[str, str], list[str]]:
    _, out = run("dpkg-query -W -f '${Package}\\t${Version}\\t${Status}\\n' "
                 + " ".join(map(shlex.quote, target.packages)) + " 2>/dev/null")
    have = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].endswith(" installed"):
            have[parts[0].split(":")[0]] = parts[1]
    return have, [p for p in target.packages if p not in have]


class Platform:
    os = "linux"
    probe = PROBE
    new_group = "setsid"

    def __init__(self, host=None):
        self.host = host

    def parse(self, out: str) -> dict:
        lines = out.split("\n")
        return {"uid": lines[0], "arch": lines[1], "nproc": int(lines[2]), "has": set(lines[3:])}

    def check(self, where: str, facts: dict, target, run) -> None:
        missing = [t for t in ("unshare", "tar", "srv") if t not in facts["has"]]
        if missing:
            raise ToolMissing(f"{where} lacks {', '.join(missing)} (needs util-linux, tar and a /srv "
                              "folder): install them there (apt-get install util-linux tar; mkdir /srv)")
        _, absent = _packages(target, run)
        if absent:
            raise ToolMissing(f"{where} lacks Debian packages for {target.name}: {' '.join(absent)}\n"
                              f"  fix (on that host): apt-get install -y {' '.join(absent)}")

    def identity(self, facts: dict, target, run) -> str:
        have, _ = _packages(target, run)
        pins = ",".join(f"{k}={v}" for k, v in sorted(have.items()))
        return f"ssh:{facts['arch']}:{pins}"

    def step_command(self, rdir: str, mounts, env, *, network: bool, facts: dict) -> tuple[str, str]:
        binds = [(f"{rdir}/{rel}", inside, ro) for rel, _, inside, ro in mounts]
        argv = namespace_argv(namespace_script(binds, env), network=network, as_root=facts["uid"] == "0")
        return shlex.join(argv), f"unshare --mount{'' if network else ' --net'} sh build.sh"


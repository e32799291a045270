"""macOS hosts: each step in one fixed build root, locked, under a generated sandbox-exec profile.

macOS has no mount or network namespaces, so the fixed paths that make
builds reproducible are a real folder: the host's build root (default
`/Users/Shared/apaf`, a place a builder user can own without touching the
sealed system volume; inventory `build_root`). Recipes learn it from
`APAF_ROOT` (see `toolchains/recipes/common.macos.sh`). Only one step may
use a root at a time: the step takes an flock on `<root>.lock` through perl
(shipped with macOS; `flock(1)` is not), which the kernel drops when the
holder dies, so a killed step never leaves a stale lock. The step runs under
`sandbox-exec` with an SBPL profile that denies the network (except for
steps that declare `network = true`, the wheels step) and denies writes
outside `build/`, `out/` and the per-user temporary folders, so the
read-only inputs stay read-only. Inputs arrive in the job's upload folder
and are moved into the root; `out/` is moved back for download; the root is
emptied afterwards (and before, in case a step was cut off).
"""
from __future__ import annotations

import shlex

from ...errors import ToolMissing

DEFAULT_ROOT = "/Users/Shared/apaf"
# System and Command Line Tools shims only: a Homebrew or MacPorts tool on PATH must not
# change what a step builds.
PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
READ_ONLY = ("recipe", "src", "deps", "inputs")
# Writable for every step: devices tools open, and the per-user temp and cache folders
# (/private/var/folders) where xcrun and clang keep their caches.
_ALWAYS_WRITABLE = ('(literal "/dev/null")', '(literal "/dev/zero")', '(literal "/dev/tty")',
                    '(literal "/dev/dtracehelper")', '(regex #"^/private/var/folders/")')

# fd stays open across exec ($^F), so the lock is held by the step itself and dies with it.
LOCK_PERL = ('use Fcntl qw(:flock); $^F = 255; my $f = shift; '
             'open(my $l, ">>", $f) or die "apaf: cannot open the build-root lock $f: $!\\n"; '
             'unless (flock($l, LOCK_EX | LOCK_NB)) { print "apaf: build root busy (another step holds $f); '
             'waiting\\n"; flock($l, LOCK_EX) or die "apaf: lock $f: $!\\n"; } '
             'exec @ARGV or die "apaf: exec $ARGV[0]: $!\\n";')
NEW_GROUP_PERL = 'setpgrp(0, 0) or die "apaf: setpgrp: $!\\n"; exec @ARGV or die "apaf: exec $ARGV[0]: $!\\n";'

PROBE = ("echo uid=$(id -u); echo arch=$(uname -m); echo nproc=$(getconf _NPROCESSORS_ONLN); "
         "echo macos=$(sw_vers -productVersion 2>/dev/null || echo none); "
         "echo clt=$(xcode-select -p 2>/dev/null || echo none); "
         "echo sdk=$(xcrun --show-sdk-version 2>/dev/null || echo none); "
         "echo clang=$( (clang --version 2>/dev/null || echo none) | head -n1); "
         "for t in sandbox-exec perl tar; do command -v $t >/dev/null && echo has=$t; done; true")


def sandbox_profile(root: str, *, network: bool) -> str:
    """The SBPL profile a step runs under: no network unless asked, writes only to build/ and out/."""
    lines = ["(version 1)", "(allow default)"]
    if not network:
        # Local IPC (syslog, the developer tools' helpers) goes over unix sockets; nothing else may.
        lines += ["(deny network*)", "(allow network* (remote unix-socket))"]
    writable = [f'(subpath "{root}/build")', f'(subpath "{root}/out")', *_ALWAYS_WRITABLE]
    lines += ["(deny file-write*)", "(allow file-write*\n    " + "\n    ".join(writable) + ")"]
    return "\n".join(lines) + "\n"


def step_script(root: str, job_dir: str, env: dict[str, str], *, network: bool) -> str:
    """The /bin/sh script run with the root's lock held: clean, move inputs in, run, move out/ back."""
    q = shlex.quote
    assigns = " ".join(q(f"{k}={v}") for k, v in sorted(env.items()))
    inner = f"cd {q(root)}/recipe && exec env -i {assigns} /bin/sh -e ./build.sh"
    parts = " ".join(f'"$R/{d}"' for d in (*READ_ONLY, "build", "out"))
    return "\n".join([
        "set -eu",
        f"R={q(root)} J={q(job_dir)}",
        # A step cut off earlier may have left its files: the lock is ours, so the root is too.
        f"clean() {{ chmod -R u+w \"$R\" 2>/dev/null || true; rm -rf {parts}; }}",
        "clean",
        'mkdir -p "$R/build" "$R/out"',
        *[f'if [ -e "$J/{d}" ]; then mv "$J/{d}" "$R/{d}"; else mkdir "$R/{d}"; fi' for d in READ_ONLY],
        "chmod -R a-w " + " ".join(f'"$R/{d}"' for d in READ_ONLY),
        "set +e",
        f"sandbox-exec -p {q(sandbox_profile(root, network=network))} /bin/sh -c {q(inner)}",
        "rc=$?",
        "set -e",
        'if [ "$rc" -eq 0 ]; then rmdir "$J/out" && mv "$R/out" "$J/out"; fi',
        "clean",
        'exit "$rc"',
    ])


class Platform:
    os = "macos"
    probe = PROBE
    new_group = "perl -e " + shlex.quote(NEW_GROUP_PERL)

    def __init__(self, host=None):
        self.host = host
        self.root = (getattr(host, "build_root", "") or DEFAULT_ROOT).rstrip("/")

    def parse(self, out: str) -> dict:
        facts: dict = {"has": set()}
        for line in out.splitlines():
            key, _, value = line.partition("=")
            if key == "has":
                facts["has"].add(value)
            elif key:
                facts[key] = value.strip()
        facts["nproc"] = int(facts.get("nproc") or 1)
        return facts

    def check(self, where: str, facts: dict, target, run) -> None:
        if facts.get("clt", "none") == "none":
            raise ToolMissing(f"{where} has no Xcode command-line tools (clang, the macOS SDK): "
                              "install them there with `xcode-select --install`")
        missing = [t for t in ("sandbox-exec", "perl", "tar") if t not in facts["has"]]
        if missing:
            raise ToolMissing(f"{where} lacks {', '.join(missing)}, which every macOS since 10.5 ships; "
                              "check the build user's PATH (/usr/bin must be on it)")
        q = shlex.quote(self.root)
        status, _ = run(f"test -d {q} && test -w {q} && test -O {q}")
        if status != 0:
            raise ToolMissing(f"{where}: the build root {self.root} must exist and belong to the build user; "
                              f"fix (on that Mac, as an admin): sudo mkdir -p {q} && sudo chown "
                              f"{getattr(self.host, 'user', '$USER')} {q} && sudo chmod 700 {q}")

    def identity(self, facts: dict, target, run) -> str:
        # The root is part of every path a build records, hence of the key.
        return (f"ssh-macos:{facts.get('arch')}:macOS {facts.get('macos')}:SDK {facts.get('sdk')}:"
                f"{facts.get('clang')}:{self.root}")

    def job_env(self, env: dict[str, str]) -> dict[str, str]:
        """The executor-independent step environment, moved to this root and PATH."""
        return {**env, "PATH": PATH, "HOME": f"{self.root}/build", "TMPDIR": f"{self.root}/build",
                "APAF_ROOT": self.root, "COPYFILE_DISABLE": "1"}

    def step_command(self, rdir: str, mounts, env, *, network: bool, facts: dict) -> tuple[str, str]:
        q = shlex.quote
        script = step_script(self.root, rdir, self.job_env(env), network=network)
        # The script goes in a file first: it is too long and too quoted for one argv.
        command = (f"cat > {q(rdir)}/step.sh <<'APAF_STEP_EOF'\n{script}\nAPAF_STEP_EOF\n"
                   f"exec perl -e {q(LOCK_PERL)} {q(self.root + '.lock')} /bin/sh {q(rdir)}/step.sh")
        return command, f"lock {self.root}; sandbox-exec{'' if network else ' (no network)'} sh build.sh"

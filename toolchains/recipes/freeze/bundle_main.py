"""Entry point of a frozen APAF bundle: serve the app(s) frozen inside it as onion services.

`<app> [--testnet] [--data-dir D] [--admin-port P] ...` is `apaf run ... <bundled apps>`;
`<app> status [--json]` is `apaf status`; `<app> --apaf-launch-app` is the runtime
re-executing the bundle to start one app process (apaf.apps.launch_command).
"""
import sys
from pathlib import Path

from apaf.apps import LAUNCH_FLAG
from apaf.cli import main

PASSTHROUGH = {LAUNCH_FLAG, "run", "status"}


def bundled_apps() -> list[str]:
    root = Path(getattr(sys, "_MEIPASS", Path(__file__).parent)) / "apps"
    return sorted(str(p) for p in root.iterdir() if (p / "apaf.toml").is_file())


def argv(args: list[str]) -> list[str]:
    if args[:1] and args[0] in PASSTHROUGH:
        return args
    if any(a in ("-h", "--help") for a in args):
        return ["run", "--help"]
    return ["run", *args, *bundled_apps()]


if __name__ == "__main__":
    sys.exit(main(argv(sys.argv[1:])))

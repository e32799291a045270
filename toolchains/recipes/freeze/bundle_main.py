"""Entry point of a frozen APAF bundle: serve the app(s) frozen inside it as onion services.

`<app> [--testnet] [--data-dir D] [--admin-port P] ...` is `apaf run ... <bundled apps>`;
`<app> status [--json]` is `apaf status`; `<app> --apaf-launch-app` is the runtime
re-executing the bundle to start one app process (apaf.apps.launch_command), and
`<app> --apaf-scrypt` to hash the admin password (apaf/scrypt_child.py).
"""
import sys
from pathlib import Path

from apaf.apps import LAUNCH_FLAG
from apaf.scrypt_child import FLAG as SCRYPT_FLAG

PASSTHROUGH = {LAUNCH_FLAG, SCRYPT_FLAG, "run", "status"}


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
    if sys.argv[1:2] == [LAUNCH_FLAG]:
        # An app process: straight to the launcher, without apaf.cli's imports (argparse,
        # logging, asyncio with ssl): each app process pays for what it imports (issue 15).
        from apaf.apps.launch import main as launch

        launch()
        sys.exit(0)
    if sys.argv[1:2] == [SCRYPT_FLAG]:
        # The admin password's scrypt, in a process that exits right after: only hashlib.
        from apaf.scrypt_child import main as scrypt

        sys.exit(scrypt())
    from apaf.cli import main

    sys.exit(main(argv(sys.argv[1:])))

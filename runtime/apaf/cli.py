"""The `apaf` command: `apaf run APP_DIR...` serves apps as onion services; `apaf status` reports.

Exit codes come from apaf.errors (each ApafError subclass has its own). A frozen bundle
re-executes itself with `--apaf-launch-app` to start an app process and with `--apaf-scrypt`
to hash the admin password (apaf/scrypt_child.py); both are handled first.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from apaf.lazy_ssl import defer_hashlib, defer_ssl, import_asyncio

asyncio = import_asyncio()  # before anything imports it: without OpenSSL until TLS is used

from apaf.apps import LAUNCH_FLAG  # noqa: E402
from apaf.errors import ApafError, ConfigError  # noqa: E402
from apaf.scrypt_child import FLAG as SCRYPT_FLAG  # noqa: E402

EPILOG = """examples:
  apaf run examples/static-site                 serve a folder's app as an onion service
  apaf run --testnet examples/chat              join the private Tor network in $APAF_TESTNET_DIR
  apaf status --json                            what the running `apaf run` is doing
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="apaf", description="Run Python apps as Tor onion services.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_help = "data directory (keys, settings, tor state); default $XDG_DATA_HOME/apaf or ~/.local/share/apaf"

    run = sub.add_parser("run", help="run apps as onion services until Ctrl-C",
                         description="Start tor, publish every enabled app as an onion service with a "
                                     "stable address, run each app in its own process on 127.0.0.1 "
                                     "and serve the admin UI. Ctrl-C or SIGTERM stops everything.")
    run.add_argument("app_dirs", nargs="+", type=Path, metavar="APP_DIR",
                     help="folder holding an app's apaf.toml (several allowed)")
    run.add_argument("--data-dir", type=Path, help=data_help)
    run.add_argument("--testnet", action="store_true",
                     help="join the private Tor network whose state is in $APAF_TESTNET_DIR "
                          "(start one with `invoke testnet.up`)")
    run.add_argument("--admin-port", type=int, default=0, help="admin UI port on 127.0.0.1 (default: a free one)")
    run.add_argument("--no-admin", action="store_true", help="do not serve the admin UI")
    run.add_argument("--no-browser", action="store_true",
                     help="do not open the admin UI in the default browser (it is opened once at "
                          "start when a desktop session is there: DISPLAY/WAYLAND_DISPLAY, or a Mac "
                          "or Windows login)")
    run.add_argument("--tor2web", choices=("allow", "refuse"),
                     help="answer requests that come through a tor2web proxy (X-Tor2web), or refuse "
                          "them with a 403; saved in DATA_DIR/settings.json (default: refuse)")
    run.add_argument("--tor", help="tor binary to use (default: bundled, then $APAF_TOR, then PATH)")
    run.add_argument("--wait-published", action="store_true",
                     help="print each address only once its descriptor is uploaded")
    run.add_argument("-v", "--verbose", action="store_true", help="log tor and runtime details")

    st = sub.add_parser("status", help="print what the running `apaf run` is doing",
                        description="Print the status of the runtime using DATA_DIR.")
    st.add_argument("--data-dir", type=Path, help=data_help)
    st.add_argument("--json", action="store_true", help="machine-readable output (the status file's shape)")
    return p


def testnet_join_lines() -> list[str]:
    try:
        from apaf.testnet.state import load
    except ImportError as err:
        raise ConfigError(f"--testnet needs apaf.testnet, which is missing from this build ({err})") from None
    try:
        return load().join_torrc_lines()
    except Exception as err:  # TestnetError carries the fix in its message
        raise ConfigError(f"--testnet: {err}") from None


def _announce_owner_link(url: str) -> None:
    # Only the terminal: apps can read files and process arguments, not our stdout.
    print(f"admin owner link (someone is guessing the admin password; this link lets "
          f"you log in without waiting, once): {url}", flush=True)


def _open_browser(args, url: str) -> None:
    from apaf import desktop

    if args.no_browser or not desktop.has_desktop():
        return

    def opening() -> None:
        if desktop.open_browser(url):
            print("opened the admin UI in your browser", flush=True)
        else:
            print("could not open a browser: open the admin address above yourself", flush=True)

    # webbrowser waits for a $BROWSER command, or a console browser, to exit: called from the
    # event loop, the runtime (admin UI, tor's events, the apps' supervision) stood still for as
    # long as that browser stayed open, and a browser loading the admin UI waited for ever.
    threading.Thread(target=opening, name="apaf-open-browser", daemon=True).start()


async def run(args) -> int:
    from apaf.paths import default_data_dir
    from apaf.runtime import Runtime
    from apaf.sandbox import platform_module
    from apaf import memory
    from apaf.timeline import mark

    mark("imports-done")
    from apaf import desktop

    data_dir = args.data_dir or default_data_dir()
    # A menu entry or a double click: nobody reads our output, the browser shows the rest.
    unattended = desktop.unattended(browser=not (args.no_browser or args.no_admin))
    if unattended:
        desktop.log_to(desktop.log_path(data_dir))
    rt = Runtime(args.app_dirs, data_dir,
                 join_lines=testnet_join_lines() if args.testnet else [],
                 tor_binary=args.tor, admin_port=args.admin_port, admin=not args.no_admin,
                 allow_tor2web=None if args.tor2web is None else args.tor2web == "allow",
                 announce=None if unattended else _announce_owner_link)
    stop = asyncio.Event()
    rt.on_quit = stop.set  # the admin UI's Quit
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
            pass
    platform_module().watch_launchers(stop.set)  # kill -9 of the file the user started stops us too
    try:
        await rt.start()
        admin = rt.admin_server
        # Unattended, this goes to a log file: never the admin address or password.
        if admin is not None and not unattended:
            print(f"admin: {admin.url}", flush=True)
            if getattr(admin, "first_boot_url", None):
                password = getattr(admin, "first_boot_password", None)
                if password:
                    print(f"admin password (shown once, write it down): {password}", flush=True)
                print(f"first-boot link (works once): {admin.first_boot_url}", flush=True)
        if admin is not None:
            _open_browser(args, admin.launch_url)
        # The addresses last: with --wait-published they wait seconds for tor, the admin UI need not.
        for app in (await rt.status())["apps"]:
            if app["enabled"] and app["onion"]:
                if args.wait_published:
                    await rt.onions.wait_published(app["name"])
                print(f"{app['name']}: http://{app['onion']}/", flush=True)
        print(f"data: {rt.layout.root}  (Ctrl-C to stop)", flush=True)
        memory.trim()  # start-up is over: what it freed goes back to the system
        await stop.wait()
    finally:
        await rt.stop()
    return 0


def status(args) -> int:
    from apaf.paths import Layout, data_dir_in_use, default_data_dir

    layout = Layout((args.data_dir or default_data_dir()).absolute())
    try:
        data = json.loads(layout.status.read_text())
    except FileNotFoundError:
        data = None
    if data is None or not data_dir_in_use(layout):
        # Nothing runs: report the last known apps, but nothing as running or published.
        apps = [{**a, "running": False, "published": False} for a in (data or {}).get("apps", [])]
        data = {"tor": {"running": False, "version": "", "bootstrap": 0,
                        "summary": "apaf is not running", "socks": ""},
                "apps": apps, "service_running": False, "admin": None}
    data.pop("pid", None)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    tor = data["tor"]
    sb = tor.get("sandbox") or {}  # tor's own seccomp filter (apaf.tor.sandbox)
    sandbox = "on" if sb.get("on") else f"off ({sb['why_off']})" if sb.get("why_off") else "off"
    print(f"tor: {'running' if tor['running'] else 'stopped'}, bootstrap {tor['bootstrap']}% "
          f"({tor['summary']}), sandbox {sandbox}")
    for a in data["apps"]:
        state = "published" if a["published"] else ("running" if a["running"] else "stopped")
        print(f"{a['name']}: {a['onion'] or '-'} [{state}{'' if a['enabled'] else ', disabled'}]")
    print(f"admin: {data['admin'] or '-'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [LAUNCH_FLAG]:  # frozen bundle re-executed as an app process
        from apaf.apps.launch import main as launch_main
        launch_main()
        return 0
    if argv[:1] == [SCRYPT_FLAG]:  # frozen bundle re-executed to hash the admin password
        from apaf.scrypt_child import main as scrypt_main
        return scrypt_main()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="apaf: %(message)s")
    if args.command == "run":
        # The runtime makes no TLS connection: stem, http.client and urllib.request, imported
        # next, get ssl's stand-in (apaf/lazy_ssl.py), and OpenSSL's ssl half stays unloaded.
        defer_ssl()
        defer_hashlib()  # and libcrypto: the admin password's scrypt runs in a child process
        from apaf import memory

        memory.one_arena()  # before any thread starts (apaf/memory.py)
    from apaf.stem_import import import_stem

    import_stem()  # stem's first import: without the modules it never uses (apaf/stem_import.py)
    import stem.util.log  # noqa: F401 -- it resets the "stem" logger to TRACE when imported

    logging.getLogger("stem").setLevel(logging.WARNING)  # stem is chatty about closed sockets
    try:
        if args.command == "run":
            return asyncio.run(run(args))
        return status(args)
    except ApafError as err:
        print(f"apaf: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())

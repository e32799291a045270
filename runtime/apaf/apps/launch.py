"""Entry point of one app process: `python -m apaf.apps.launch` (or the frozen bundle re-exec'd).

Reads the contract environment (APAF_ENTRY = "module:function", APAF_APP_DIR, APAF_LISTEN_FD,
APAF_PORT, ...), confines itself (apaf.sandbox.enter), exits when the runtime process goes away,
puts the app directory first on sys.path, imports the entry and calls it with no arguments.
The entry may
  - return an `aiohttp.web.Application`: served here on the socket the runtime holds;
  - return a coroutine: run to completion (it serves on `apaf.listening_socket()` itself);
  - serve on `apaf.listening_socket()` itself and block (return when done).
The runtime counts the app as started when it takes that socket, or here once the
Application's on_startup hooks have run.
"""
from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time

from apaf.apps import RUNTIME_PID
from apaf.lazy_ssl import import_asyncio

asyncio = import_asyncio()  # first: an app that never makes a TLS connection never loads OpenSSL


def _fail(message: str) -> "NoReturn":  # noqa: F821
    print(f"apaf: {message}", file=sys.stderr)
    raise SystemExit(2)


def _exit_with_parent(parent: int) -> None:
    """Like tor's __OwningControllerProcess: if the runtime dies (even kill -9), so do we."""
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)  # let the app shut down politely
        time.sleep(5)
        os._exit(1)

    threading.Thread(target=watch, name="apaf-parent-watch", daemon=True).start()


def main() -> None:
    # The runtime names itself: one killed before this process got here (its start-up, before
    # any line of ours, takes 0.1 s and more) has already made init or a subreaper our parent,
    # and a watch for that parent never ends. Else taken before the sandbox, for the same reason.
    runtime_pid = int(os.environ.get(RUNTIME_PID) or os.getppid())
    entry = os.environ.get("APAF_ENTRY", "")
    app_dir = os.environ.get("APAF_APP_DIR", "")
    if ":" not in entry or not app_dir:
        _fail("APAF_ENTRY=module:function and APAF_APP_DIR must be set; apps are started by `apaf run`")
    if os.environ.get("APAF_DATA_DIR"):  # started by the runtime: confined before any app code
        from apaf.sandbox import enter
        from apaf.sandbox.policy import Grant
        enter(Grant.from_environment(app_dir))
    _exit_with_parent(runtime_pid)  # the first thread: after the sandbox, which binds threads
    module_name, func_name = entry.split(":", 1)
    sys.path.insert(0, app_dir)
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as err:
        _fail(f"{app_dir}/apaf.toml: [app].entry: cannot load {entry!r} ({err}); "
              f"check the module exists in the app directory and defines {func_name}()")
    result = func()
    if asyncio.iscoroutine(result):
        asyncio.run(result)
        return
    from aiohttp import web  # only needed for apps that hand back an Application

    if isinstance(result, web.Application):
        from apaf import listen

        sock = listen.app_socket(os.environ.get("APAF_BIND_HOST", "127.0.0.1"), int(os.environ["APAF_PORT"]))

        async def serving(app):  # last of the hooks: the app's own start-up went well
            listen.mark_ready()

        result.on_startup.append(serving)
        web.run_app(result, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()

"""Start the static-site app from the environment the APAF runtime sets for every app.

Serves on the socket the runtime holds (APAF_LISTEN_FD, apaf.listen); outside the runtime
(tests, `python -m apaf.staticsite`) it binds APAF_BIND_HOST (default 127.0.0.1):APAF_PORT.
Reads APAF_PORT (required), APAF_APP_DIR,
APAF_SETTINGS (JSON; `root` is the docroot relative to the app dir, default
`public`), APAF_ONION_ADDRESS (the host name used in redirects to HTTP/1.0 clients
that send no Host) and APAF_ALLOW_TOR2WEB.  A bad setting exits with a message that
names it and the fix.
"""
import asyncio
import json
import os
import sys

from apaf.listen import app_socket
from apaf.staticsite.server import serve
from apaf.staticsite.site import Site
from apaf.web.tor2web import allowed_from_env


class ConfigError(Exception):
    pass


def config(environ):
    """Return (docroot, host, port, server_name, allow_tor2web) or raise ConfigError."""
    port = environ.get("APAF_PORT", "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"APAF_PORT={port!r} is not a TCP port; the APAF runtime sets it "
                          "(run the app with `apaf run APP_DIR`)")
    try:
        settings = json.loads(environ.get("APAF_SETTINGS") or "{}")
    except ValueError as e:
        raise ConfigError(f"APAF_SETTINGS is not valid JSON ({e}); check [settings] in apaf.toml")
    if not isinstance(settings, dict):
        raise ConfigError("APAF_SETTINGS must be a JSON object; check [settings] in apaf.toml")
    root = settings.get("root", "public")
    if not isinstance(root, str) or not root:
        raise ConfigError(f"[settings].root = {root!r} in apaf.toml must be a directory name, "
                          'e.g. root = "public"')
    app_dir = environ.get("APAF_APP_DIR") or os.getcwd()
    docroot = os.path.join(app_dir, root)
    if not os.path.isdir(docroot):
        raise ConfigError(f"[settings].root: the docroot {docroot} is not a directory; create it "
                          "or point root in apaf.toml at the folder holding index.html")
    host = environ.get("APAF_BIND_HOST") or "127.0.0.1"
    name = environ.get("APAF_ONION_ADDRESS") or "localhost"
    return docroot, host, int(port), name, allowed_from_env(environ)


def main():
    try:
        docroot, host, port, name, allow = config(os.environ)
    except ConfigError as e:
        sys.exit(f"apaf.staticsite: {e}")
    site = Site(docroot, server_name=name, allow_tor2web=allow)
    try:
        asyncio.run(serve(site, app_socket(host, port)))
    except KeyboardInterrupt:
        pass

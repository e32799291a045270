"""The admin web UI: password-protected control of the runtime on loopback.

It answers only at a per-run secret ``admin-<random>.localhost`` name, so its
cookie never reaches an app's port (README.md here says why).

``create_app(control, data_dir, port=P)`` builds the aiohttp application;
``await serve(control, data_dir, host="127.0.0.1", port=0)`` serves it and returns
an ``AdminServer`` (``.url``, ``.first_boot_url``, ``.first_boot_password``,
``await .close()``).  ``control`` implements ``RuntimeControl`` (control.py).
The password hash lives in ``<data_dir>/admin/password`` (see password.py).
"""
from .aiohttp_import import import_aiohttp

import_aiohttp()  # before anything imports aiohttp: only aiohttp.web, without TLS (aiohttp_import.py)

from .app import create_app  # noqa: E402
from .control import RuntimeControl  # noqa: E402
from .server import AdminServer, serve  # noqa: E402
from apaf.timeline import mark  # noqa: E402

mark("admin-imported")  # aiohttp and jinja2 are most of the admin UI's start-up time

__all__ = ["AdminServer", "RuntimeControl", "create_app", "serve"]

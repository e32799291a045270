"""Test app: GET / answers JSON with the APAF_* environment the runtime gave this process, the
names of all its environment variables, HOME, TMPDIR, and its uid/gid."""
import json
import os
import stat

from aiohttp import web


async def echo(request):
    data_dir = os.environ["APAF_DATA_DIR"]
    body = {k: v for k, v in os.environ.items() if k.startswith("APAF_")}
    body["data_dir_mode"] = oct(stat.S_IMODE(os.stat(data_dir).st_mode))
    body["pid"] = os.getpid()
    body["env_names"] = sorted(os.environ)
    body.update(HOME=os.environ.get("HOME"), TMPDIR=os.environ.get("TMPDIR"), uid=os.getuid(), gid=os.getgid())
    return web.json_response(body)


def main():
    app = web.Application()
    app.router.add_get("/", echo)
    return app

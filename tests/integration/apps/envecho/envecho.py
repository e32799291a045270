"""Test app: GET / answers JSON with the APAF_* environment the runtime gave this process."""
import json
import os
import stat

from aiohttp import web


async def echo(request):
    data_dir = os.environ["APAF_DATA_DIR"]
    body = {k: v for k, v in os.environ.items() if k.startswith("APAF_")}
    body["data_dir_mode"] = oct(stat.S_IMODE(os.stat(data_dir).st_mode))
    body["pid"] = os.getpid()
    return web.json_response(body)


def main():
    app = web.Application()
    app.router.add_get("/", echo)
    return app

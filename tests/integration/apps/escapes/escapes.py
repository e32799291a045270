"""Test app: one sandbox escape per request; the test passes the targets as query parameters.

GET /try/NAME?target=T  -> {"name", "outcome": "allowed" | "refused", "error"}  (refused means the
                           call failed with EACCES, EPERM or EROFS: the sandbox's answer; "hidden": a read
                           or write found no such file, which the test made: the app's own view)
GET /fetch?url=U        -> the body of U fetched through Tor (outbound-tor)
GET /data               -> writes, then reads back, a file in APAF_DATA_DIR and one in TMPDIR
"""
import ctypes
import errno
import os
import socket
import subprocess
import tempfile

from aiohttp import web

import apaf


def _read(target):
    with open(target, "rb") as f:
        f.read(1)


def _write(target):
    with open(target, "w") as f:
        f.write("escaped")


def _connect(target):
    host, port = target.rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=5).close()


def _udp_dns(target):
    # a DNS query for example.com, straight to the resolver (no Tor)
    query = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(query, (target or "127.0.0.53", 53))


def _raw(target):
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()


def _netlink(target):
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()


def _exec(target):
    subprocess.run([target or "/bin/sh", "-c", "true"], check=True, timeout=10)


def _listen(target):
    socket.create_server(("127.0.0.1", int(target or 0))).close()


def _ptrace(target):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, int(target), 0, 0) != 0:  # PTRACE_ATTACH
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _signal(target):
    os.kill(int(target), 0)


ATTEMPTS = {"read": _read, "write": _write, "connect": _connect, "udp-dns": _udp_dns,
            "raw-socket": _raw, "netlink": _netlink, "exec": _exec, "listen": _listen,
            "ptrace": _ptrace, "signal": _signal}


async def attempt(request):
    name = request.match_info["name"]
    try:
        ATTEMPTS[name](request.query.get("target", ""))
    except OSError as err:
        # ENOENT for a file the test made: a root runtime's app sees only its own paths there
        outcome = ("refused" if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
                   else "hidden" if err.errno == errno.ENOENT and name in ("read", "write") else "failed")
        return web.json_response({"name": name, "outcome": outcome,
                                  "error": f"{type(err).__name__}: {err}"})
    except subprocess.CalledProcessError as err:
        return web.json_response({"name": name, "outcome": "failed", "error": str(err)})
    return web.json_response({"name": name, "outcome": "allowed", "error": ""})


async def fetch(request):
    async with apaf.http_session() as session:
        async with session.get(request.query["url"]) as response:
            return web.Response(body=await response.read())


async def data(request):
    path = os.path.join(os.environ["APAF_DATA_DIR"], "notes.txt")
    with open(path, "a") as f:
        f.write("kept\n")
    with tempfile.NamedTemporaryFile("w+") as tmp:
        tmp.write("scratch")
        tmp.flush()
        tmp.seek(0)
        scratch = tmp.read()
    with open(path) as f:
        return web.json_response({"data": f.read(), "tmp": scratch})


def main():
    app = web.Application()
    app.router.add_get("/try/{name}", attempt)
    app.router.add_get("/fetch", fetch)
    app.router.add_get("/data", data)
    return app

"""The tor2web middleware that aiohttp apps (the chat example among them) reuse."""
from aiohttp import web

from apaf.web.apache_pages import error_page
from apaf.web.tor2web import allowed_from_env, tor2web_middleware


async def hello(request):
    return web.Response(text="hello")


def make_app(allow):
    app = web.Application(middlewares=[tor2web_middleware(allow)])
    app.router.add_get("/", hello)
    return app


async def test_refused_by_default(aiohttp_client):
    client = await aiohttp_client(make_app(False))
    resp = await client.get("/", headers={"X-Tor2web": "encrypted"})
    assert resp.status == 403
    assert await resp.read() == error_page(403)
    assert resp.headers["Content-Type"] == "text/html; charset=iso-8859-1"


async def test_ordinary_requests_pass(aiohttp_client):
    client = await aiohttp_client(make_app(False))
    resp = await client.get("/")
    assert resp.status == 200 and await resp.text() == "hello"


async def test_allowed_when_the_user_says_so(aiohttp_client):
    client = await aiohttp_client(make_app(True))
    resp = await client.get("/", headers={"x-tor2web": "1"})
    assert resp.status == 200


def test_env_switch():
    assert allowed_from_env({"APAF_ALLOW_TOR2WEB": "1"}) is True
    assert allowed_from_env({}) is False

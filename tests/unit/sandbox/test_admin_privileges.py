"""The admin status page shows each app's privileges and whether the sandbox enforces each."""
import re

from apaf import sandbox


def with_sandbox(control, limits: dict, privileges: dict):
    plain = control.status

    async def status():
        s = await plain()
        s["sandbox"] = limits
        for app in s["apps"]:
            app["privileges"] = privileges[app["name"]]
        return s
    control.status = status


def rows(page: str) -> dict:
    found = re.findall(r'data-privilege="([^"]+)">.*?class="granted">(\w+)</td>\s*<td class="enforced">(.*?)</td>',
                       page, re.S)
    return {name: (granted, re.sub(r"</?strong>", "", enforced)) for name, granted, enforced in found}


async def test_privileges_granted_and_enforced_on_linux_with_landlock(admin, monkeypatch):
    monkeypatch.setattr(sandbox, "status", lambda: {"platform": "linux", "landlock_abi": 7, "files": True,
                                                    "network": True, "system_calls": True})
    with_sandbox(admin.control, sandbox.status(), {"site": sandbox.privileges_status(["outbound-tor"])})
    await admin.login()
    page = await (await admin.client.get("/status")).text()
    assert "Landlock ABI 7" in page and "files restricted" in page
    assert rows(page) == {"outbound-tor": ("yes", "yes"), "tor-status": ("no", "yes"),
                          "run-binaries": ("no", "yes")}


async def test_nothing_enforced_is_said_plainly(admin, monkeypatch):
    monkeypatch.setattr(sandbox, "status", lambda: {"platform": "windows", "files": False, "network": False,
                                                    "system_calls": False})
    with_sandbox(admin.control, sandbox.status(), {"site": sandbox.privileges_status(["tor-status"])})
    await admin.login()
    page = await (await admin.client.get("/status")).text()
    assert "files NOT restricted" in page and "network NOT restricted" in page
    assert rows(page) == {"outbound-tor": ("no", "no"), "tor-status": ("yes", "no"), "run-binaries": ("no", "no")}

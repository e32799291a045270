"""The admin UI's URL table: every route named, GET shows, POST changes."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .views import actions, auth, pages, wizard

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", pages.index, name="index")
    r.add_get("/login", auth.login_form, name="login")
    r.add_post("/login", auth.login, name="login_post")
    r.add_get("/login/owner/{token}", auth.owner_link, name="owner_link")
    r.add_post("/logout", auth.logout, name="logout")
    r.add_get("/first-boot/{token}", auth.first_boot, name="first_boot")
    r.add_get("/open/{token}", auth.launch, name="launch")
    r.add_get("/password", auth.password_form, name="password")
    r.add_post("/password", auth.password_change, name="password_post")
    r.add_get("/bootstrap", pages.bootstrap, name="bootstrap")
    r.add_get("/status", pages.status_page, name="status")
    r.add_get("/api/status", pages.status_json, name="status_json")
    r.add_get("/splash", pages.splash, name="splash")
    r.add_post("/service/start", actions.service_start, name="service_start")
    r.add_post("/service/stop", actions.service_stop, name="service_stop")
    r.add_post("/reachability", actions.reachability, name="reachability")
    r.add_get("/apps", actions.apps_form, name="apps")
    r.add_post("/apps", actions.apps_save, name="apps_post")
    r.add_get("/torrc", actions.torrc_form, name="torrc")
    r.add_post("/torrc", actions.torrc_save, name="torrc_post")
    r.add_post("/quit", actions.quit_runtime, name="quit")
    r.add_get("/welcome", wizard.welcome, name="welcome")
    r.add_post("/welcome", wizard.welcome_done, name="welcome_post")
    r.add_post("/welcome/password", wizard.choose_password, name="wizard_password")
    r.add_get("/welcome/apps", wizard.apps, name="wizard_apps")
    r.add_post("/welcome/apps", wizard.apps_save, name="wizard_apps_post")
    r.add_get("/welcome/tor2web", wizard.tor2web, name="wizard_tor2web")
    r.add_post("/welcome/tor2web", wizard.tor2web_save, name="wizard_tor2web_post")
    r.add_get("/welcome/share", wizard.share, name="wizard_share")
    r.add_post("/welcome/finish", wizard.finish, name="wizard_finish")
    r.add_static("/static/", STATIC_DIR, name="static")


# Pages a test (or a reviewer) can walk to check that none answers without a login.
PROTECTED_GET = ["/", "/password", "/bootstrap", "/status", "/api/status", "/splash",
                 "/apps", "/torrc", "/welcome", "/welcome/apps", "/welcome/tor2web",
                 "/welcome/share"]
PROTECTED_POST = ["/logout", "/password", "/service/start", "/service/stop",
                  "/reachability", "/apps", "/torrc", "/welcome", "/welcome/password",
                  "/welcome/apps",
                  "/welcome/tor2web", "/welcome/finish", "/quit"]

"""``create_app(settings)``: builds the Flask app; nothing runs at import time."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface

from ..apikeys import web as apikeys_web
from ..apikeys.store import ApiKeys
from ..apikeys.throttle import KeyThrottle
from ..desk import build_desk
from ..dialogue.domain import load_domain
from ..handoff.presence import Presence
from ..links import web as links_web
from ..logging_setup import request_id_var
from ..notifications.build import build_notifier
from ..runtime import build_connectors_for
from ..services import Services, build_services
from ..settings import Settings
from ..settings.dialogue import DomainSpec
from ..staff.accounts import Accounts
from ..staff.web_auth import init_auth
from . import api, chat, console, dashboard, health, metrics, notify_api, webhooks
from .live import init_live

log = logging.getLogger(__name__)

#: the largest request body taken (channels' webhooks are a few KB; Telegram's stay under 1 MiB).
MAX_BODY_BYTES = 1024 * 1024

_SAFE_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def request_id_for(given: str) -> str:
    """The caller's ``X-Request-ID`` when short and safe, else a new one."""
    if 0 < len(given) <= 64 and set(given) <= _SAFE_ID:
        return given
    return uuid.uuid4().hex


def _request_id() -> str:
    return request_id_for(request.headers.get("X-Request-ID", ""))


#: machine-to-machine routes: no cookie session, success lines logged at DEBUG (high volume).
_MACHINE_PREFIXES = ("/webhooks/", "/healthz", "/readyz", "/metrics")


class _SessionsForPeopleOnly(SecureCookieSessionInterface):
    """Channels' webhooks carry no cookies: skip opening a signed session for them."""

    def open_session(self, app, request):
        if request.path.startswith(_MACHINE_PREFIXES):
            return self.null_session_class()
        return super().open_session(app, request)


def create_app(settings: Settings, services: Services | None = None) -> Flask:
    """Build the web app for ``settings``.

    Args:
        settings: validated settings.
        services: Redis, SQL and the rest; built from the settings when omitted.
    """
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.server.secret_key
    # a larger body is refused with 413 before it is read (webhooks and chat posts are small)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["BRANDBOT_SETTINGS"] = settings
    app.session_interface = _SessionsForPeopleOnly()
    services = services or build_services(settings)
    app.extensions["brandbot"] = services

    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.token = request_id_var.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        machine = request.path.startswith(_MACHINE_PREFIXES)
        level = logging.DEBUG if machine and response.status_code < 400 else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level,
                "%s %s -> %s in %.1f ms",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
            )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("token", None)
        if token is not None:
            request_id_var.reset(token)

    app.register_blueprint(health.bp)
    chat.register(app, services)
    webhooks.register(app, services)
    metrics.register(app, services)
    links_web.register(app, services)
    _mount_staff_side(app, settings, services)

    @app.get("/")
    def _front_door():
        return redirect(url_for("webchat.page") if "webchat" in app.blueprints else "/console/", code=302)

    return app


def _staff_domain(settings: Settings) -> DomainSpec:
    """The bot's domain for the desk (FAQ suggestions, the hand-back message); an app with no
    dialogue configured at all (a web-only test or a channel-only deployment) gets an empty one."""
    d = settings.dialogue
    if d.domain_file is None and not (d.flows or d.faq or d.responses):
        return DomainSpec()
    return load_domain(settings)


def _mount_staff_side(app: Flask, settings: Settings, services: Services) -> None:
    """Sign-in and CSRF, the agent desk, the live hub, the console, the dashboard, the /api/v1 API
    (staff tokens; the notifications with API keys)."""
    accounts = Accounts(services.engine)
    presence = Presence(services.redis, settings.stores.key_prefix, settings.handoff.presence_seconds)
    init_auth(app, settings, services.redis_url, accounts, on_sign_out=lambda staff: presence.drop(staff.id))
    desk = build_desk(
        settings, services.redis, services.engine, build_connectors_for(services), domain=_staff_domain(settings)
    )
    hub = init_live(app, services)
    apikeys_web.register(
        app, ApiKeys(services.engine), KeyThrottle(services.redis_url, key_prefix=settings.stores.key_prefix)
    )
    notify_api.register(app, build_notifier(services))
    api.register(app, services, desk, accounts)
    console.register(app, services, desk, accounts, hub, presence)
    dashboard.register(app, services, accounts)

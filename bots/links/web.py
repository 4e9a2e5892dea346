"""``GET /l/<code>``: the 302 to a tracked link's stored target, counting the click.

Never an open redirect: the only possible destination is the target stored with the code,
and it is checked against ``links.allow`` again (a target the list no longer accepts is
refused with 404, as is an unknown or malformed code). The route works even when
``links.enabled`` is off, so links already sent keep working; only new rewriting stops.
Recording a click must not cost the customer the link: a SQL failure there is logged and
the redirect still happens.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, redirect, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from ..services import Services
from ..settings import Settings
from .allow import allowed
from .clicks import Click, record_click, target_of
from .shortener import CODE_RE

__all__ = ["register", "COOKIE"]

log = logging.getLogger(__name__)

#: the first-click cookie, scoped to the link's own path (``/l/<code>``): one per link.
COOKIE = "bb_link"


def register(app: Flask, services: Services) -> None:
    """Mount the ``links`` blueprint (``GET /l/<code>``)."""
    settings: Settings = app.config["BRANDBOT_SETTINGS"]
    bp = Blueprint("links", __name__)
    cfg = settings.links
    secure = (cfg.public_base_url or "").startswith("https://")

    @bp.get("/l/<code>")
    def follow(code: str) -> Response:
        if not CODE_RE.fullmatch(code):
            abort(404)
        target = target_of(services.engine, code)
        if target is None:
            abort(404)
        if not allowed(target, cfg.allow):
            log.warning("link %s: stored target is not on links.allow; refused", code)
            abort(404)
        first = None
        if request.method == "GET":
            click = Click(
                code=code,
                user_agent=request.headers.get("User-Agent", ""),
                has_cookie=request.cookies.get(COOKIE) == "1",
                referrer_less=not request.headers.get("Referer"),
                at=datetime.now(UTC),
            )
            try:
                first = record_click(services.engine, click)
            except SQLAlchemyError:
                log.exception("link %s: the click could not be recorded", code)
        response = redirect(target, code=302)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        if first:
            response.set_cookie(
                COOKIE,
                "1",
                max_age=cfg.cookie_days * 86400,
                path=request.path,
                secure=secure or request.is_secure,
                httponly=True,
                samesite="Lax",
            )
        return response

    app.register_blueprint(bp)

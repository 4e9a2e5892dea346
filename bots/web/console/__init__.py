"""The support staff's web console at ``/console``: inbox, conversation view, live updates, staff admin.

Server-rendered Jinja pages (customer text is always autoescaped) that work as plain
HTML forms (POST, then 303 back, with the CSRF token) and are enhanced by our own
small scripts (``fetch`` with ``X-CSRFToken``, an EventSource on ``/console/events``).
No CDN: everything is served from ``/console/static/``. Every page sends a strict
Content-Security-Policy (no inline script or style), ``X-Frame-Options: DENY``,
``Referrer-Policy: same-origin`` and ``Cache-Control: no-store``.

Routes (all behind ``require_roles``; analysts only reach ``/console/welcome``):
    ``GET  /console``                         inbox (``view``, ``channel``, ``language``, ``mode``, ``q``, ``page``)
    ``GET  /console/inbox/rows``              the inbox table body and counts (live refresh)
    ``GET  /console/c/<id>``                  a conversation (with its customer's consent panel)
    ``POST /console/c/<id>/takeover|assign|reply|note|handback|resolve``
    ``GET  /console/c/<id>/export``           the customer's data as a JSON download (admin)
    ``POST /console/c/<id>/erase``            erase the customer (admin; ``confirm``: ERASE or the id)
    ``GET  /console/events``                  Server-Sent Events (``?conversation=<id>`` narrows)
    ``GET  /console/staff``                   staff admin (admin); ``POST /console/staff`` adds,
    ``POST /console/staff/<id>/disable|enable``, ``POST /console/staff/<id>/tokens/revoke``
    ``GET  /console/welcome``                 landing page for every role
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, render_template, request
from werkzeug.wrappers import Response

from ...staff.web_auth import current_staff
from ..strict_headers import apply_strict_headers
from . import actions, admin, conversation, customer_data, events, inbox  # noqa: F401 - they hang routes on bp
from ._shared import (
    CHANNELS,
    MODES,
    ROLES_DESK,
    ConsoleState,
    ago,
    as_utc,
    bp,
    channel_info,
    clock_time,
    iso,
    state,
    until,
)
from .privacy import PrivacyTools

__all__ = ["register", "ConsoleState", "CSP"]

#: the console's Content-Security-Policy: our own files only, nothing inline, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def register(
    app: Flask,
    services: Any,
    desk: Any,
    accounts: Any,
    hub: Any,
    presence: Any,
    clock: Callable[[], datetime] = _utcnow,
) -> None:
    """Mount the console on ``app``.

    Args:
        app: the Flask app; H1's ``init_auth`` must have run (sessions, CSRF, login page).
        services: the process's Services (settings).
        desk: :class:`bots.desk.service.Desk`, every staff action goes through it.
        accounts: :class:`bots.staff.accounts.Accounts` (assignees, staff admin).
        hub: :class:`bots.web.live.LiveHub` on the live channel (``/console/events``).
        presence: :class:`bots.handoff.presence.Presence`, beaten by each open console tab.
        clock: returns an aware ``datetime`` (wait times, the WhatsApp window).
    """
    settings = services.settings
    app.extensions["console"] = ConsoleState(
        settings=settings,
        desk=desk,
        accounts=accounts,
        hub=hub,
        presence=presence,
        clock=clock,
        privacy=PrivacyTools.from_services(services),
    )
    app.register_blueprint(bp)


@bp.after_request
def _secure(response: Response) -> Response:
    """Strict headers on every console answer (pages, fragments, JSON, the stream)."""
    return apply_strict_headers(response, CSP, "console.static")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    st = state()
    now = as_utc(st.clock())
    me = current_staff()
    waiting = 0
    if me is not None and me.can(*ROLES_DESK) and request.endpoint != "console.inbox_rows":
        waiting = st.desk.counts(me).get("waiting", 0)
    return {
        "me": me,
        "brand": st.settings.brand.name,
        "waiting_count": waiting,
        "now": now,
        "ago": lambda value: ago(value, now),
        "until": lambda value: until(value, now),
        "clock_time": lambda value: clock_time(value, now),
        "iso": iso,
        "channel_info": channel_info,
        "CHANNELS": CHANNELS,
        "MODES": MODES,
    }


@bp.errorhandler(403)
def _forbidden(_exc: Exception) -> Any:
    """Console pages refused to a role (``abort(403)``): say why, and where analysts belong."""
    if request.accept_mimetypes.best == "application/json":
        return {"error": "your role may not use this page"}, 403
    return render_template("console/forbidden.html"), 403

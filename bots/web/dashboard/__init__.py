"""The brand insights dashboard at ``/dashboard/`` for analysts and admins.

One server-rendered page of the insights summary (:func:`bots.insights.summary.summarize`)
for the filters in the URL, as SVG charts drawn on the server (:mod:`.charts`: offline, no
script) and tables (:mod:`.tables`), each table downloadable as CSV with the same filters.
It shares the console's sign-in (``require_roles``), look (``console.css``) and strict headers.

Routes:
    ``GET /dashboard/``                      the page (``from``, ``to``, ``channel``, ``language``,
                                             ``intent``, ``flow``, ``agent``; a bad one: 400 naming it)
    ``GET /dashboard/export/<table>.csv``    one table as CSV, same query parameters
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import Engine
from werkzeug.wrappers import Response

from ...insights.summary import summarize as summarize_sql
from ..console import CSP
from ..strict_headers import apply_strict_headers
from . import views  # noqa: F401 - hangs the routes on bp
from ._shared import DashboardState, bp

__all__ = ["register", "DashboardState", "bp"]


def register(app: Flask, services: Any, accounts: Any, summarize: Callable[[Engine, Any], Any] | None = None) -> None:
    """Mount the dashboard on ``app`` (after ``init_auth``: it uses the console's sign-in).

    Args:
        app: the Flask app.
        services: the process's Services (the SQL engine, the settings).
        accounts: :class:`bots.staff.accounts.Accounts` (the agent filter's choices).
        summarize: the summary function; :func:`bots.insights.summary.summarize` when omitted.
    """

    def staff_choices() -> list[tuple[int, str]]:
        return [(m.id, m.display) for m in accounts.list() if m.role in ("agent", "admin")]

    app.extensions["dashboard"] = DashboardState(
        engine=services.engine,
        brand=services.settings.brand.name,
        languages=tuple(services.settings.brand.languages),
        staff_choices=staff_choices,
        summarize=summarize or summarize_sql,
    )
    app.register_blueprint(bp)


@bp.after_request
def _secure(response: Response) -> Response:
    """The console's strict headers on every dashboard answer."""
    return apply_strict_headers(response, CSP, "dashboard.static")

"""What the dashboard's modules share: the blueprint and its state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import Engine

__all__ = ["bp", "DashboardState", "state"]

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dataclass(frozen=True)
class DashboardState:
    """The dashboard's dependencies, set once by :func:`register` (``app.extensions["dashboard"]``)."""

    engine: Engine
    #: the brand's name (page title).
    brand: str
    #: the brand's languages (suggested in the language filter).
    languages: tuple[str, ...]
    #: (id, name) of the staff one may filter by (agents and admins), read per request.
    staff_choices: Callable[[], list[tuple[int, str]]]
    #: ``summarize(engine, filters) -> Summary`` (bots.insights.summary; passed in for tests).
    summarize: Callable[[Engine, Any], Any]


def state() -> DashboardState:
    return current_app.extensions["dashboard"]

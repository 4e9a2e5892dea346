"""The conversation view: transcript with NLU per customer message, profile, slots, notes, composer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, render_template

from ...desk.errors import NotFound
from ...staff.web_auth import current_staff, require_roles
from ._shared import ROLES_DESK, bp, pick_text, state

__all__ = ["CannedView", "canned_for"]


@dataclass(frozen=True)
class CannedView:
    """A canned reply as the composer offers it (``/shortcut``), in the conversation's language."""

    shortcut: str
    title: str
    text: str


def canned_for(settings: Any, language: str | None) -> list[CannedView]:
    default = settings.brand.default_language
    return [
        CannedView(c.shortcut, c.title, pick_text(dict(c.text), language, default))
        for c in settings.console.canned_replies
    ]


def _assignees() -> list[Any]:
    """Staff a conversation can be assigned to: enabled agents and admins."""
    return [m for m in state().accounts.list() if not m.disabled and m.role in ROLES_DESK]


def sentiment_class(label: str | None, score: float | None) -> str:
    """CSS modifier of a sentiment chip."""
    text = (label or "").lower()
    if text.startswith("neg") or (score is not None and not text and score <= -0.25):
        return "neg"
    if text.startswith("pos") or (score is not None and not text and score >= 0.25):
        return "pos"
    return "neu"


@bp.get("/c/<conversation_id>")
@require_roles(*ROLES_DESK)
def conversation(conversation_id: str):
    """One conversation."""
    st = state()
    try:
        detail = st.desk.detail(conversation_id)
    except NotFound:
        abort(404)
    summary = detail.summary
    return render_template(
        "console/conversation.html",
        d=detail,
        c=summary,
        staff=current_staff(),
        assignees=_assignees(),
        canned=canned_for(st.settings, summary.language),
        sentiment_class=sentiment_class,
    )


@bp.errorhandler(404)
def _not_found(_exc: Exception):
    return render_template("console/not_found.html"), 404

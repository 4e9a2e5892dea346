"""The conversation view: transcript with NLU per customer message, profile, consent, slots, notes, composer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template

from ...desk.errors import NotFound
from ...errors import StoreUnavailable
from ...privacy import PrivacyError
from ...staff.web_auth import current_staff, require_roles
from ._shared import ROLES_DESK, bp, pick_text, state
from .privacy import CONFIRM_WORD, ConsentLine, PrivacyTools, customer_of

log = logging.getLogger(__name__)

__all__ = ["CannedView", "ConsentPanel", "canned_for", "consent_panel", "render_conversation"]


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


@dataclass(frozen=True)
class ConsentPanel:
    """The consent panel of a conversation: its lines, or why they cannot be shown."""

    lines: tuple[ConsentLine, ...] = ()
    #: set when the customer cannot be named for the privacy duties or the store does not answer.
    problem: str | None = None


def consent_panel(tools: PrivacyTools, conversation_id: str, channel: str, customer_id: str) -> ConsentPanel:
    """The panel's content; a problem is shown in the panel instead of failing the whole page."""
    try:
        who = customer_of(conversation_id, channel, customer_id)
        return ConsentPanel(tuple(tools.consents(who)))
    except PrivacyError as exc:
        return ConsentPanel(problem=str(exc))
    except StoreUnavailable as exc:
        log.warning("consent panel of %s: %s", conversation_id, exc)
        return ConsentPanel(problem="consents cannot be read right now (the store is unavailable)")


def render_conversation(conversation_id: str, *, erase_error: str | None = None) -> str:
    """The conversation page (also answered, with ``erase_error``, to an unconfirmed erasure).

    Raises:
        NotFound: aborts with 404.
    """
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
        consent=consent_panel(st.privacy, summary.id, summary.channel, summary.customer_id),
        confirm_word=CONFIRM_WORD,
        erase_error=erase_error,
    )


@bp.get("/c/<conversation_id>")
@require_roles(*ROLES_DESK)
def conversation(conversation_id: str):
    """One conversation."""
    return render_conversation(conversation_id)


@bp.errorhandler(404)
def _not_found(_exc: Exception):
    return render_template("console/not_found.html"), 404

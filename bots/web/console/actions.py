"""Staff actions on a conversation: take over, assign, reply, note, hand back, resolve.

Each is a plain form POST (CSRF token in the form, answered by a 303 back to the
conversation with a flash) that the page's script also sends with ``fetch`` and
``X-CSRFToken`` (answered with JSON). Every change goes through the Desk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import request
from werkzeug.wrappers import Response

from ...desk.errors import Conflict, InvalidInput, NotFound
from ...errors import StoreUnavailable
from ...staff.web_auth import current_staff, require_roles
from ._shared import ROLES_DESK, bp, conversation_url, done, failed, staff_id_of, state
from .conversation import canned_for

log = logging.getLogger(__name__)

__all__ = ["expand_shortcut"]

_MAX_TEXT = 4000


def expand_shortcut(text: str, canned: dict[str, str]) -> str:
    """``"/refund"`` alone -> the canned reply ``refund``'s text (the no-script path); else ``text``."""
    stripped = text.strip()
    if stripped.startswith("/") and stripped[1:] in canned:
        return canned[stripped[1:]]
    return text


def _run(conversation_id: str, act: Callable[[], str]) -> Response:
    """Do ``act`` (returns the success message); desk errors become a clear refusal."""
    back = conversation_url(conversation_id)
    try:
        message = act()
    except NotFound as exc:
        return failed(404, str(exc) or "no such conversation", back)
    except Conflict as exc:
        return failed(409, str(exc), back)
    except InvalidInput as exc:
        return failed(422, str(exc), back)
    except StoreUnavailable as exc:
        log.warning("console action on %s failed: %s", conversation_id, exc)
        return failed(503, "the store is unavailable; nothing was changed, please retry", back)
    return done(message, back)


def _text(field: str) -> str:
    return request.form.get(field, "")[: _MAX_TEXT + 1]


@bp.post("/c/<conversation_id>/takeover")
@require_roles(*ROLES_DESK)
def takeover(conversation_id: str) -> Response:
    staff = current_staff()

    def act() -> str:
        state().desk.takeover(conversation_id, staff)
        return "You have taken over this conversation; the bot stays silent until you hand it back."

    return _run(conversation_id, act)


@bp.post("/c/<conversation_id>/assign")
@require_roles(*ROLES_DESK)
def assign(conversation_id: str) -> Response:
    staff = current_staff()
    raw = request.form.get("assignee", "").strip()

    def act() -> str:
        assignee = staff_id_of(raw)
        if assignee is None:
            raise InvalidInput("choose the person to assign")
        summary = state().desk.assign(conversation_id, staff, assignee)
        return f"Assigned to {summary.assigned_name or f'staff {assignee}'}."

    return _run(conversation_id, act)


@bp.post("/c/<conversation_id>/reply")
@require_roles(*ROLES_DESK)
def reply(conversation_id: str) -> Response:
    staff = current_staff()
    text = _text("text")
    template = request.form.get("template_kind", "").strip() or None

    def act() -> str:
        st = state()
        if len(text) > _MAX_TEXT:
            raise InvalidInput(f"a reply is at most {_MAX_TEXT} characters")
        language = st.desk.detail(conversation_id).summary.language if text.strip().startswith("/") else None
        canned = {c.shortcut: c.text for c in canned_for(st.settings, language)}
        result = st.desk.reply(conversation_id, staff, expand_shortcut(text, canned), template_kind=template)
        if not result.delivered:
            raise Conflict(f"Your reply is in the transcript but was not delivered: {result.reason or result.status}")
        return "Reply sent." + (" You took the conversation over." if result.took_over else "")

    return _run(conversation_id, act)


@bp.post("/c/<conversation_id>/note")
@require_roles(*ROLES_DESK)
def note(conversation_id: str) -> Response:
    staff = current_staff()
    text = _text("text")

    def act() -> str:
        if len(text) > _MAX_TEXT:
            raise InvalidInput(f"a note is at most {_MAX_TEXT} characters")
        state().desk.note(conversation_id, staff, text)
        return "Note added (only staff see it)."

    return _run(conversation_id, act)


@bp.post("/c/<conversation_id>/handback")
@require_roles(*ROLES_DESK)
def handback(conversation_id: str) -> Response:
    staff = current_staff()

    def act() -> str:
        state().desk.handback(conversation_id, staff)
        return "Handed back to the bot; the customer was told."

    return _run(conversation_id, act)


@bp.post("/c/<conversation_id>/resolve")
@require_roles(*ROLES_DESK)
def resolve(conversation_id: str) -> Response:
    staff = current_staff()

    def act() -> str:
        state().desk.resolve(conversation_id, staff)
        return "Conversation resolved."

    return _run(conversation_id, act)

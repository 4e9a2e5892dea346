"""Admin-only actions on a conversation's customer: export their data, erase them.

``GET /console/c/<id>/export`` downloads the same JSON document as ``brandbot export --json``
(``Content-Disposition: attachment``; the file name has the channel and the customer's
pseudonym, never the channel id). ``POST /console/c/<id>/erase`` is ``brandbot forget``: it
needs the CSRF token and ``confirm`` (``ERASE`` or the customer's id; without it: 400 and
the page again, nothing erased), then answers 303 to the inbox with a flash of what was
removed. Who exported is logged at INFO (staff id and pseudonym); who erased is kept in the
erasure record (actor ``staff:<id>``) and logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis
from flask import Response, abort, flash, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ...desk.errors import NotFound
from ...errors import StoreUnavailable
from ...live_events import publish
from ...privacy import Customer, PrivacyError
from ...privacy.export import to_json
from ...staff.web_auth import require_roles, signed_in_staff
from ._shared import bp, failed, state, wants_json
from .conversation import render_conversation
from .privacy import CONFIRM_WORD, confirmed, customer_of, erased_message, export_filename

log = logging.getLogger(__name__)

__all__: list[str] = []


def _customer_or_404(conversation_id: str) -> Customer:
    """The conversation's customer; 404 for no such conversation, 409 for one the privacy duties cannot name."""
    try:
        summary = state().desk.conversation(conversation_id)
    except NotFound:
        abort(404)
    try:
        return customer_of(summary.id, summary.channel, summary.customer_id)
    except PrivacyError as exc:
        abort(409, description=str(exc))


def _tell_open_consoles(conversation_id: str, who: Customer, actor: str, at: datetime) -> None:
    """An ``erased`` live event: open inboxes drop the row, an open conversation tab says it is stale.

    The erasure is done when this runs; a lost event only delays the other tabs' refresh
    (their next event or reconnection reloads), so a Redis error is logged, not raised.
    """
    st = state()
    event = {
        "type": "erased",
        "conversation_id": conversation_id,
        "channel": who.channel,
        "actor": actor,
        "at": at.isoformat(),
    }
    try:
        publish(st.privacy.client, st.settings.stores.key_prefix, event)
    except redis.RedisError as exc:
        log.warning("the erased event of a %s customer was not published: %s", who.channel, exc)


@bp.get("/c/<conversation_id>/export")
@require_roles("admin")
def export_customer(conversation_id: str) -> BaseResponse:
    """Everything stored about the conversation's customer, as a JSON download (a subject-access request)."""
    st = state()
    who = _customer_or_404(conversation_id)
    tools = st.privacy
    try:
        document = tools.export(who)
    except StoreUnavailable as exc:
        log.warning("console export failed: %s", exc)
        return failed(
            503,
            "the store is unavailable; please retry",
            url_for("console.conversation", conversation_id=conversation_id),
        )
    pseudonym = tools.pseudonyms.subject(who)
    log.info("staff:%d exported the data of %s customer %s (pseudonym)", signed_in_staff().id, who.channel, pseudonym)
    response = Response(to_json(document), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(who, pseudonym, st.clock())}"'
    return response


@bp.post("/c/<conversation_id>/erase")
@require_roles("admin")
def erase_customer(conversation_id: str) -> Any:
    """Erase the conversation's customer everywhere, then back to the inbox with what was removed."""
    st = state()
    me = signed_in_staff()
    who = _customer_or_404(conversation_id)
    here = url_for("console.conversation", conversation_id=conversation_id)
    if not confirmed(request.form.get("confirm", "")[:200], who):
        message = f"Nothing was erased: type {CONFIRM_WORD} (or the customer's id) to confirm."
        if wants_json():
            response = jsonify(error=message)
            response.status_code = 400
            return response
        return render_conversation(conversation_id, erase_error=message), 400
    try:
        report = st.privacy.erase(who, me.actor)
    except PrivacyError as exc:
        return failed(409, str(exc), here)
    except StoreUnavailable as exc:
        log.warning("console erasure by %s failed: %s", me.actor, exc)
        return failed(503, "the store is unavailable; the erasure may be partial, please run it again", here)
    log.info("%s erased a %s customer (erasure record %d)", me.actor, who.channel, report.erasure_id)
    _tell_open_consoles(conversation_id, who, me.actor, report.at)
    message = erased_message(report)
    inbox = url_for("console.inbox")
    if wants_json():
        return jsonify(ok=True, message=message, erasure_id=report.erasure_id, removed=report.removed)
    flash(message, "ok")
    return redirect(inbox, code=303)

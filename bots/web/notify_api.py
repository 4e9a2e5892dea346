"""``/api/v1/notifications``: a brand's systems notify a customer (an API key with scope ``notify``).

    POST /api/v1/notifications        {"kind", "variables", "booking" | "customer" | "recipient", ...}
                                      Idempotency-Key: <any string up to 200 characters>
                                      -> 202 {"notification": {"id", "state", "reason", "channel", ...}}
    GET  /api/v1/notifications/<id>   -> 200 {"notification": {...}} (its state now)

A valid request is answered 202 with the notification: ``queued`` (it goes to the chosen
channel) or ``refused`` with the reason (no channel could take it: nothing was sent). 401 without
a valid key, 403 without the scope, 409 when the Idempotency-Key was used for another request,
422 naming the field (an unknown kind, a missing variable, no recipient), 503 when a store is down
(the same call again with its Idempotency-Key sends once).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request

from connectors.input_text import BadInput, clean_text

from ..apikeys.web import current_api_key, require_api_key
from ..notifications import IdempotencyConflict
from ..notifications.service import InvalidNotification, Notifier, NotifyRequest
from .api import NOTIFY, _body, bp

__all__ = ["register", "MAX_IDEMPOTENCY_KEY"]

MAX_IDEMPOTENCY_KEY = 200
_EXTENSION = "brandbot_notifier"


def _notifier() -> Notifier:
    return current_app.extensions[_EXTENSION]


def _answer(status: int, payload: dict[str, object]) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(field: str, reason: str) -> Response:
    return _answer(422, {"error": f"{field}: {reason}", "field": field})


def _idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    return clean_text(raw, field="Idempotency-Key", max_chars=MAX_IDEMPOTENCY_KEY, required=True)


@bp.post("/notifications")
@require_api_key(NOTIFY)
def create_notification() -> Response:
    """Notify one customer (see the module docstring)."""
    body = _body()  # 400 for a body that is not a JSON object
    recipient = body.get("recipient")
    try:
        req = NotifyRequest(
            kind=str(body.get("kind", "")),
            variables=dict(body.get("variables") or {}),
            booking=body.get("booking"),
            customer=body.get("customer"),
            recipient=(str(recipient.get("channel", "")), str(recipient.get("id", "")))
            if isinstance(recipient, dict)
            else None,
            channel=body.get("channel"),
            language=body.get("language"),
            scope=f"apikey:{current_api_key().id}",
            idempotency_key=_idempotency_key(),
        )
        view = _notifier().notify(req)
    except BadInput as exc:
        return _refused(exc.field, exc.reason)
    except InvalidNotification as exc:
        return _refused(exc.field, exc.reason)
    except IdempotencyConflict as exc:
        return _answer(409, {"error": str(exc), "field": "Idempotency-Key"})
    response = _answer(202, {"notification": view.to_json()})
    response.headers["Location"] = f"{bp.url_prefix}/notifications/{view.id}"
    return response


@bp.get("/notifications/<notification_id>")
@require_api_key(NOTIFY)
def get_notification(notification_id: str) -> Response:
    """One notification's state now (queued, sent, delivered, read, refused, failed) and why."""
    view = _notifier().notifications.view(notification_id)
    if view is None:
        return _answer(404, {"error": f"no notification {notification_id[:64]!r}"})
    return _answer(200, {"notification": view.to_json()})


def register(app: Flask, notifier: Notifier) -> None:
    """Give the notification routes (mounted on the ``/api/v1`` blueprint) their Notifier."""
    app.extensions[_EXTENSION] = notifier

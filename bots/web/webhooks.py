"""Channel webhooks: verify, parse, dedupe, enqueue, answer at once.

Routes:
    ``POST /webhooks/telegram``        Telegram updates (secret token header) -> 200.
    ``POST /webhooks/twilio``          WhatsApp/SMS messages (signed) -> empty TwiML ``<Response/>``.
    ``POST /webhooks/twilio/status``   Twilio status callbacks (signed): the status is written on the
                                       ``delivery_parts`` row of the MessageSid and rolled up to its
                                       ``deliveries`` row (see :mod:`bots.pipeline.delivery_parts`).

Answers: forged (bad signature/secret) 403, nothing enqueued; malformed 400 (logged);
Redis unreachable or the queue full 503 with ``Retry-After`` (the channel retries).
Nothing else happens in the request: the dialogue runs in the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, cast, runtime_checkable
from urllib.parse import parse_qsl

import redis
from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Request

from connectors.base import Connector, WebhookRequest
from connectors.errors import ForgedRequest, MalformedRequest
from connectors.twilio.parse import StatusUpdate, form_of, parse_status_form, verify_signature

from ..errors import StoreUnavailable
from ..pipeline.delivery_parts import apply_status
from ..pipeline.ingest import ingest_for
from ..services import Services

log = logging.getLogger(__name__)

__all__ = [
    "register",
    "bp",
    "EMPTY_TWIML",
    "to_webhook_request",
    "handle_telegram",
    "handle_twilio",
    "handle_twilio_status",
]

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

EMPTY_TWIML = "<Response/>"
TWILIO_CHANNELS = ("whatsapp", "sms", "twilio")


def _services() -> Services:
    return current_app.extensions["brandbot"]


def _flask_request() -> Request:
    # the werkzeug Request behind the proxy (flask annotates `request` as the Request it stands for)
    return cast("LocalProxy[Request]", request)._get_current_object()


def twilio_public_url(services: Services) -> str:
    tw = services.settings.channels.twilio
    return tw.public_url or services.settings.server.public_url


def to_webhook_request(public_url: str = "", req: Request | None = None) -> WebhookRequest:
    """``req`` (default: the current Flask request) as a :class:`WebhookRequest`.

    ``url`` is the URL the channel signed: ``public_url`` + path + query string when a public
    URL is configured (behind a proxy), else the URL as received.
    """
    request = req if req is not None else _flask_request()
    body = request.get_data(cache=True)
    query = request.query_string.decode("latin-1")
    base = public_url.rstrip("/") if public_url else f"{request.scheme}://{request.host}"
    url = base + request.path + (f"?{query}" if query else "")
    form: dict[str, str] = {}
    if request.mimetype == "application/x-www-form-urlencoded" and body:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}  # the connector reports it as malformed
    return WebhookRequest(method=request.method, url=url, headers=dict(request.headers), body=body, form=form)


def _connector(services: Services, channel_names: tuple[str, ...]) -> Connector | None:
    """The first enabled connector of ``channel_names`` (the process's connectors are built once, then cached)."""
    from ..runtime import build_connectors_for

    connectors = build_connectors_for(services)
    return next((connectors[c] for c in channel_names if c in connectors), None)


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)


def _unavailable() -> Response:
    """503 with Retry-After: the channel retries the webhook later."""
    return _plain(503, "temporarily unavailable", {"Retry-After": "5"})


def _accept(
    services: Services, req: Request, channel_names: tuple[str, ...], ok: Callable[[], Response], public_url: str = ""
) -> Response:
    connector = _connector(services, channel_names)
    if connector is None:
        return _plain(
            404,
            f"channel {channel_names[0]} is not enabled "
            f"(channels.{channel_names[0].replace('whatsapp', 'twilio')}.enabled)",
        )
    try:
        inbounds = connector.parse(to_webhook_request(public_url, req))
    except ForgedRequest as exc:
        log.warning("refused a forged %s webhook from %s: %s", channel_names[0], req.remote_addr, exc)
        return _plain(403, "forbidden")
    except MalformedRequest as exc:
        log.warning("malformed %s webhook: %s", channel_names[0], exc)
        return _plain(400, "malformed request")
    except (StoreUnavailable, redis.RedisError) as exc:  # connectors keep channel state in Redis
        log.error("%s webhook: %s", channel_names[0], exc)
        return _unavailable()
    try:
        ingest_for(services).accept(inbounds)
    except StoreUnavailable as exc:
        log.error("%s webhook not accepted: %s", channel_names[0], exc)
        return _unavailable()
    return ok()


def handle_telegram(services: Services, req: Request) -> Response:
    """``POST /webhooks/telegram``: verify, parse, enqueue -> 200 (403/400/404/503 as above)."""
    return _accept(services, req, ("telegram",), lambda: Response("", status=200))


def handle_twilio(services: Services, req: Request) -> Response:
    """``POST /webhooks/twilio``: verify, parse, enqueue -> empty TwiML (403/400/404/503 as above)."""
    return _accept(
        services,
        req,
        TWILIO_CHANNELS,
        lambda: Response(EMPTY_TWIML, status=200, mimetype="text/xml"),
        public_url=twilio_public_url(services),
    )


@runtime_checkable
class ParsesTwilioStatus(Protocol):
    """A Twilio connector that parses status callbacks itself (and records opt-outs and closed
    windows on the way); any other gets the plain signature check and form parse."""

    def parse_status(self, request: WebhookRequest) -> StatusUpdate: ...


def handle_twilio_status(services: Services, req: Request) -> Response:
    """``POST /webhooks/twilio/status``: verify, record the delivery status -> empty TwiML."""
    tw = services.settings.channels.twilio
    if not tw.enabled:
        return _plain(404, "channel twilio is not enabled (channels.twilio.enabled)")
    wreq = to_webhook_request(twilio_public_url(services), req)
    connector = _connector(services, TWILIO_CHANNELS)
    try:
        if isinstance(connector, ParsesTwilioStatus):
            status = connector.parse_status(wreq)  # also records opt-outs (21610) and closed windows
        else:
            form = form_of(wreq)
            verify_signature(wreq, tw.auth_token, form=form)
            status = parse_status_form(form)
    except (StoreUnavailable, redis.RedisError) as exc:
        log.error("Twilio status callback: %s", exc)
        return _unavailable()
    except ForgedRequest as exc:
        log.warning("refused a forged Twilio status callback from %s: %s", req.remote_addr, exc)
        return _plain(403, "forbidden")
    except MalformedRequest as exc:
        log.warning("malformed Twilio status callback: %s", exc)
        return _plain(400, "malformed request")
    code = status.error_code
    try:
        key = apply_status(services.engine, status.message_sid, status.status, str(code) if code else None)
    except SQLAlchemyError as exc:
        log.error("cannot record Twilio status %s for %s: %s", status.status, status.message_sid, exc)
        return _unavailable()
    if key is None:
        log.info(
            "Twilio status %s for unknown message %s (not sent by this deployment, or not recorded yet: kept)",
            status.status,
            status.message_sid,
        )
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.post("/telegram")
def telegram() -> Response:
    return handle_telegram(_services(), _flask_request())


@bp.post("/twilio")
def twilio() -> Response:
    return handle_twilio(_services(), _flask_request())


@bp.post("/twilio/status")
def twilio_status() -> Response:
    return handle_twilio_status(_services(), _flask_request())


def _queue_probe(services: Services) -> Callable[[], str | None]:
    """Readiness: None when the inbound queue accepts messages, else why not.

    Redis being down is reported by /readyz itself.
    """

    def probe() -> str | None:
        ingest = ingest_for(services)
        try:
            pipe = services.redis.pipeline(transaction=False)
            for stream in ingest.keys.all_streams():
                pipe.xlen(stream)
            lengths = pipe.execute()
        except redis.RedisError:
            return None
        full = [i for i, n in enumerate(lengths) if int(n) >= ingest.shard_cap]
        if full:
            return (
                f"inbound queue full on shard(s) {full} ({ingest.shard_cap} waiting each): webhooks answer 503; "
                "workers are behind or stopped (start more `brandbot worker`)"
            )
        return None

    return probe


def register(app: Flask, services: Services) -> None:
    """Mount the webhooks and add the queue's readiness probe."""
    app.register_blueprint(bp)
    services.readiness["inbound_queue"] = _queue_probe(services)

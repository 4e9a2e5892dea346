"""Channel webhooks: verify, parse, dedupe, enqueue, answer at once.

Routes:
    ``POST /webhooks/telegram``        Telegram updates (secret token header) -> 200.
    ``POST /webhooks/twilio``          WhatsApp/SMS messages (signed) -> empty TwiML ``<Response/>``.
    ``POST /webhooks/twilio/status``   Twilio status callbacks (signed): the status is written on the
                                       ``delivery_parts`` row of the MessageSid and rolled up to its
                                       ``deliveries`` row (see :mod:`bots.pipeline.delivery_parts`).
    ``GET  /webhooks/meta``            Meta's subscription check: ``hub.challenge`` echoed when
                                       ``hub.verify_token`` matches, else 403.
    ``POST /webhooks/meta``            Messenger, Instagram and WhatsApp Cloud deliveries (signed with
                                       ``X-Hub-Signature-256``): every message event of every entry is
                                       queued; WhatsApp statuses are recorded like Twilio's -> 200.

Answers: forged (bad signature/secret) 403, nothing enqueued; malformed 400 with the reason
(logged): a body that is not the channel's, a text with a lone surrogate, a field over its cap;
Redis unreachable or the queue full 503 with ``Retry-After`` (the channel retries).
A valid delivery the bot does not act on is answered 200 (a 4xx would make the channel retry
it) and counted in ``brandbot_webhook_ignored_total{channel, kind}``: a Telegram update kind
the bot does not handle (``poll_answer``, ``chat_join_request``...), and a Twilio message
whose ``To`` is not one of our numbers (kind ``not_our_number``: it is not answered from ours).
Nothing else happens in the request: the dialogue runs in the workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, cast, runtime_checkable
from urllib.parse import parse_qsl

import redis
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Request

from connectors.base import Connector, WebhookRequest
from connectors.errors import ForgedRequest, MalformedRequest
from connectors.meta import META_CHANNELS, MetaConnector, MetaStatus, verify_subscription
from connectors.telegram.parse import decode_body, update_kind
from connectors.twilio.parse import (
    StatusUpdate,
    addressed_to,
    channel_of,
    form_of,
    parse_message_form,
    parse_status_form,
    verify_signature,
)

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
    "handle_meta",
    "handle_meta_subscription",
    "IGNORED",
    "NOT_OUR_NUMBER",
]

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

EMPTY_TWIML = "<Response/>"
TWILIO_CHANNELS = ("whatsapp", "sms", "twilio")
#: the ``kind`` of a Twilio message sent to a number that is not ours.
NOT_OUR_NUMBER = "not_our_number"
#: longest reason given in a 400 answer.
_MAX_REASON = 300

IGNORED = Counter(
    "brandbot_webhook_ignored_total",
    "Valid webhook deliveries answered 200 and not queued: update kinds the bot does not handle, "
    "messages to a number that is not ours",
    ["channel", "kind"],
)


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
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError:
            form = {}  # not UTF-8, or percent-escapes that are not: the connector reports it as malformed
    return WebhookRequest(method=request.method, url=url, headers=dict(request.headers), body=body, form=form)


def _connector(services: Services, channel_names: tuple[str, ...]) -> Connector | None:
    """The first enabled connector of ``channel_names`` (the process's connectors are built once, then cached)."""
    from ..runtime import build_connectors_for

    connectors = build_connectors_for(services)
    return next((connectors[c] for c in channel_names if c in connectors), None)


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)


def _malformed(channel: str, exc: MalformedRequest) -> Response:
    """400 with the reason (what the client sent is never echoed raw: a surrogate cannot be encoded)."""
    reason = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
    if len(reason) > _MAX_REASON:
        reason = reason[:_MAX_REASON] + "..."
    log.warning("malformed %s webhook: %s", channel, reason)
    return _plain(400, f"malformed request: {reason}")


def _unavailable() -> Response:
    """503 with Retry-After: the channel retries the webhook later."""
    return _plain(503, "temporarily unavailable", {"Retry-After": "5"})


#: looks at a request before the connector parses it: a reason to answer 200 and ignore it, or None.
Screen = Callable[[WebhookRequest], str | None]
#: the kind of a verified, parsed request that gave no Inbound (for the ignored counter).
KindOf = Callable[[WebhookRequest], str]


def _accept(
    services: Services,
    req: Request,
    channel_names: tuple[str, ...],
    ok: Callable[[], Response],
    public_url: str = "",
    *,
    screen: Screen | None = None,
    kind_of: KindOf | None = None,
) -> Response:
    connector = _connector(services, channel_names)
    if connector is None:
        return _plain(
            404,
            f"channel {channel_names[0]} is not enabled "
            f"(channels.{channel_names[0].replace('whatsapp', 'twilio')}.enabled)",
        )
    wreq = to_webhook_request(public_url, req)
    try:
        if screen is not None and screen(wreq) is not None:
            return ok()
        inbounds = connector.parse(wreq)
    except ForgedRequest as exc:
        log.warning("refused a forged %s webhook from %s: %s", channel_names[0], req.remote_addr, exc)
        return _plain(403, "forbidden")
    except MalformedRequest as exc:
        return _malformed(channel_names[0], exc)
    except (StoreUnavailable, redis.RedisError) as exc:  # connectors keep channel state in Redis
        log.error("%s webhook: %s", channel_names[0], exc)
        return _unavailable()
    if not inbounds and kind_of is not None:
        IGNORED.labels(channel_names[0], kind_of(wreq)).inc()
        return ok()
    try:
        ingest_for(services).accept(inbounds)
    except StoreUnavailable as exc:
        log.error("%s webhook not accepted: %s", channel_names[0], exc)
        return _unavailable()
    return ok()


def _telegram_kind(wreq: WebhookRequest) -> str:
    """The kind of an update that gave no Inbound (it parsed: its body decodes)."""
    return update_kind(decode_body(wreq.body))


def handle_telegram(services: Services, req: Request) -> Response:
    """``POST /webhooks/telegram``: verify, parse, enqueue -> 200 (403/400/404/503 as above).

    An update that gives nothing to queue (a kind the bot does not handle, a service
    message) is answered 200 and counted in :data:`IGNORED`.
    """
    return _accept(services, req, ("telegram",), lambda: Response("", status=200), kind_of=_telegram_kind)


def _not_ours(services: Services, public_url: str) -> Screen:
    """A screen refusing (200, not queued, counted) messages whose ``To`` is not one of our numbers.

    A message to one of ours, or without ``To`` (no Twilio delivery lacks it: the connector
    refuses such a request), goes on to the connector. One to another number is checked
    like any other first (signature: 403; shape: 400), so only Twilio's own deliveries are
    counted; then it is answered with empty TwiML, never from our number.
    """
    tw = services.settings.channels.twilio
    numbers = {"whatsapp": tw.whatsapp_from, "sms": tw.sms_from}

    def screen(wreq: WebhookRequest) -> str | None:
        form = form_of(wreq)
        to = form.get("To", "")
        if not to or addressed_to(form, numbers):
            return None
        verify_signature(wreq, tw.auth_token, public_url, form)
        parse_message_form(form)  # a malformed message is a 400, wherever it was sent
        IGNORED.labels(channel_of(to), NOT_OUR_NUMBER).inc()
        log.warning(
            "Twilio message %r to %r ignored: not one of our numbers (whatsapp_from=%r, sms_from=%r); "
            "check which webhook URL that number has in the Twilio console",
            form.get("MessageSid", "")[:64],
            to[:64],
            tw.whatsapp_from,
            tw.sms_from,
        )
        return NOT_OUR_NUMBER

    return screen


def handle_twilio(services: Services, req: Request) -> Response:
    """``POST /webhooks/twilio``: verify, parse, enqueue -> empty TwiML (403/400/404/503 as above).

    A message whose ``To`` is not one of our numbers is answered with empty TwiML (so Twilio
    reports no error), not queued, counted and logged.
    """
    public_url = twilio_public_url(services)
    return _accept(
        services,
        req,
        TWILIO_CHANNELS,
        lambda: Response(EMPTY_TWIML, status=200, mimetype="text/xml"),
        public_url=public_url,
        screen=_not_ours(services, public_url),
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
        return _malformed("Twilio status callback", exc)
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


def handle_meta_subscription(services: Services, req: Request) -> Response:
    """``GET /webhooks/meta``: Meta's subscription check -> the challenge as text (403 otherwise)."""
    meta = services.settings.channels.meta
    if not meta.enabled:
        return _plain(404, "channel meta is not enabled (channels.meta.enabled)")
    try:
        challenge = verify_subscription(req.args, meta.verify_token)
    except ForgedRequest as exc:
        log.warning("refused a Meta subscription check from %s: %s", req.remote_addr, exc)
        return _plain(403, "forbidden")
    return Response(challenge, status=200, mimetype="text/plain")


def _record_statuses(services: Services, connector: MetaConnector, statuses: list[MetaStatus]) -> None:
    """WhatsApp Cloud statuses on the delivery records (as Twilio's status callbacks do)."""
    for status in statuses:
        connector.note_status(status)
        key = apply_status(services.engine, status.message_id, status.status, status.error_code)
        if key is None:
            log.info("WhatsApp Cloud status %s for unknown message %s (kept)", status.status, status.message_id[:80])


def handle_meta(services: Services, req: Request) -> Response:
    """``POST /webhooks/meta``: verify, parse every entry, record statuses, enqueue -> 200.

    Forged or unsigned 403 (nothing queued); malformed 400; Redis or SQL down 503 (Meta
    retries). Events the bot does not act on (echoes, reads, a page that is not ours) are
    answered 200 and counted in :data:`IGNORED`.
    """
    connector = _connector(services, META_CHANNELS)
    if not isinstance(connector, MetaConnector):
        return _plain(404, "channel meta is not enabled (channels.meta.enabled and an account id)")
    wreq = to_webhook_request("", req)
    try:
        delivery = connector.parse_delivery(wreq)
    except ForgedRequest as exc:
        log.warning("refused a forged Meta webhook from %s: %s", req.remote_addr, exc)
        return _plain(403, "forbidden")
    except MalformedRequest as exc:
        return _malformed("meta", exc)
    for kind in delivery.ignored:
        IGNORED.labels("meta", kind).inc()
    try:
        _record_statuses(services, connector, delivery.statuses)
        if delivery.inbounds:
            ingest_for(services).accept(delivery.inbounds)
    except (StoreUnavailable, redis.RedisError, SQLAlchemyError) as exc:
        log.error("Meta webhook not accepted: %s", exc)
        return _unavailable()
    return Response("", status=200)


@bp.get("/meta")
def meta_subscription() -> Response:
    return handle_meta_subscription(_services(), _flask_request())


@bp.post("/meta")
def meta() -> Response:
    return handle_meta(_services(), _flask_request())


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

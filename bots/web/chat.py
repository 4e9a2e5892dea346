"""The web chat: the customer-facing page at ``/chat`` and its JSON API.

The web chat is a channel like Telegram: a post is parsed by
:class:`connectors.webchat.WebchatConnector`, deduped and appended to the inbound
stream by the pipeline's ``Ingest``, answered 202 at once, and handled by the
workers, which send replies through the same connector into the visitor's
outbox. The connector publishes each new outbox entry on the live channel; the
page listens with Server-Sent Events, fed by the process's :class:`LiveHub`.

Routes:
    ``GET  /chat``                       the page (sets the visitor cookie).
    ``POST /chat/api/messages``          ``{"text", "payload"?, "client_id"}`` -> 202; 400 with
                                         ``error`` (and ``field``) for a text the connector refuses
                                         (lone surrogate, too long); NUL and controls are removed.
    ``GET  /chat/api/events``            SSE: the transcript after ``Last-Event-ID`` (or
                                         ``?after=C``), then each new entry as it is written.
    ``GET  /chat/api/messages?after=C``  entries after cursor ``C`` (``wait`` up to 5 s): the
                                         fallback for browsers without EventSource.

A visitor is a random id in a signed cookie (or, where the browser blocks
cookies in an iframe, the same signed token in the ``X-Webchat-Token`` header,
or the ``token`` parameter of the events stream, since EventSource sends no headers).

Embedding on a brand's site (served over HTTPS so the cookie can be cross-site)::

    <iframe src="https://bot.example.com/chat" title="Chat" style="width:380px;height:560px;border:0"></iframe>
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from connectors.base import WebhookRequest
from connectors.errors import BadInput, MalformedRequest, TransientSendError
from connectors.webchat import VISITOR_HEADER, WebchatConnector, WebchatEntry, valid_cursor, valid_visitor_id

from ..errors import StoreUnavailable
from ..live_events import live_channel
from ..pipeline.ingest import ingest_for
from ..services import Services
from .live import LiveHub, SseEvent, init_live, sse_response

log = logging.getLogger(__name__)

__all__ = ["register", "bp", "WebchatState", "COOKIE_NAME", "TOKEN_HEADER", "make_signer"]

COOKIE_NAME = "bb_webchat"
TOKEN_HEADER = "X-Webchat-Token"
_SALT = "brandbot.webchat.visitor"
_COOKIE_MAX_AGE = 30 * 24 * 3600
#: longest wait of the polling fallback (browsers without EventSource).
MAX_WAIT_SECONDS = 5.0
#: messages one visitor may post per minute before 429.
RATE_PER_MINUTE = 30
#: how long the page should wait before polling again when it has no visitor yet.
SHORT_POLL_MS = 2500
#: an events stream ends after this long; EventSource reconnects with Last-Event-ID.
STREAM_SECONDS = 300.0
#: longest pause between the stream's checks of its heartbeat and time limit.
_IDLE_SECONDS = 5.0
#: outbox reads of the event streams at once per process: a reconnect wave of thousands
#: of streams (a deploy, a Redis resync) waits its turn instead of exhausting the pool.
MAX_STREAM_READS = 32

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'"
)

#: the page's own words (the bot's words come from the dialogue).
UI_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Chat with {brand}",
        "subtitle": "We usually answer in seconds, day and night.",
        "placeholder": "Write a message…",
        "send": "Send",
        "typing": "{brand} is typing",
        "hint": "Try: “I want to change my seat on booking X7K9QZ”",
        "error": "Your message could not be sent. Please try again.",
        "offline": "Connection lost, reconnecting…",
    },
    "fr": {
        "title": "Discuter avec {brand}",
        "subtitle": "Nous répondons en quelques secondes, jour et nuit.",
        "placeholder": "Écrivez un message…",
        "send": "Envoyer",
        "typing": "{brand} écrit",
        "hint": "Essayez : « Je voudrais changer de place, réservation X7K9QZ »",
        "error": "Votre message n'a pas pu être envoyé. Réessayez.",
        "offline": "Connexion perdue, reconnexion…",
    },
}

bp = Blueprint(
    "webchat",
    __name__,
    url_prefix="/chat",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@dataclass
class WebchatState:
    """What the chat routes need, built once by :func:`register`."""

    connector: WebchatConnector
    signer: URLSafeTimedSerializer
    services: Services
    hub: LiveHub
    max_wait_seconds: float = MAX_WAIT_SECONDS
    rate_per_minute: int = RATE_PER_MINUTE
    stream_seconds: float = STREAM_SECONDS
    heartbeat_seconds: float = 15.0
    stream_reads: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_STREAM_READS)
    )


def make_signer(secret_key: str) -> URLSafeTimedSerializer:
    """Signs and checks visitor tokens (the cookie's value) with ``server.secret_key``."""
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def register(app: Flask, services: Services) -> None:
    """Mount the web chat on ``app`` (nothing when ``channels.webchat.enabled`` is false)."""
    settings = services.settings
    if not settings.channels.webchat.enabled:
        return
    connectors = services.connectors or {}
    connector = connectors.get("webchat")
    if not isinstance(connector, WebchatConnector):
        prefix = settings.stores.key_prefix
        connector = WebchatConnector(services.redis, prefix, live_channel=live_channel(prefix))
    app.extensions["webchat"] = WebchatState(
        connector=connector,
        signer=make_signer(settings.server.secret_key),
        services=services,
        hub=init_live(app, services),
    )
    app.register_blueprint(bp)


def _state() -> WebchatState:
    return current_app.extensions["webchat"]


# -- visitor identity ------------------------------------------------------


def _visitor_from_request(state: WebchatState, *extra_tokens: str | None) -> str | None:
    for token in (request.headers.get(TOKEN_HEADER), *extra_tokens, request.cookies.get(COOKIE_NAME)):
        if not token or len(token) > 200:
            continue
        try:
            visitor = state.signer.loads(token, max_age=_COOKIE_MAX_AGE)
        except BadSignature:
            continue
        if isinstance(visitor, str) and valid_visitor_id(visitor):
            return visitor
    return None


def _identify(state: WebchatState) -> tuple[str, bool]:
    """The visitor of this request and whether it was just created."""
    visitor = _visitor_from_request(state)
    if visitor:
        return visitor, False
    return "v" + secrets.token_urlsafe(16), True


def _remember(response, state: WebchatState, visitor: str):
    """Set (refresh) the signed visitor cookie; cross-site (iframe) capable over HTTPS."""
    secure = request.is_secure
    response.set_cookie(
        COOKIE_NAME,
        state.signer.dumps(visitor),
        max_age=_COOKIE_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
        path="/chat",
    )
    return response


def _error(status: int, message: str, **extra: Any):
    return jsonify(error=message, **extra), status


# -- routes ----------------------------------------------------------------


def _ui_language(settings) -> str:
    supported = [lang for lang in settings.brand.languages if lang in UI_TEXT] or ["en"]
    default = settings.brand.default_language if settings.brand.default_language in supported else supported[0]
    return request.accept_languages.best_match(supported, default=default) or default


@bp.get("")
def page():
    """The chat page: the demo's front door, embeddable in an iframe."""
    state = _state()
    settings = state.services.settings
    lang = _ui_language(settings)
    brand = settings.brand.name
    text = {k: v.format(brand=brand) for k, v in UI_TEXT[lang].items()}
    visitor, _new = _identify(state)
    html = render_template("chat.html", brand=brand, lang=lang, text=text, token=state.signer.dumps(visitor))
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _remember(response, state, visitor)


def _rate_limited(state: WebchatState, bucket: str, limit: int) -> bool:
    """Count one post in ``bucket``'s current minute; True once over ``limit``."""
    window = int(time.time() // 60)
    key = f"{state.connector.key_prefix}:{{{bucket}}}:rate:{window}"
    pipe = state.services.redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 120)
    count, _ = pipe.execute()
    return int(count) > limit


@bp.post("/api/messages")
def post_message():
    """Accept one customer message: parse, record, enqueue, answer 202 at once."""
    state = _state()
    if not request.is_json:
        return _error(415, "send JSON: Content-Type: application/json")
    visitor, new = _identify(state)
    # a known visitor is limited per visitor; cookie-less posts share a per-address budget.
    bucket, limit = (
        (f"webchat-ip:{request.remote_addr}", 4 * state.rate_per_minute)
        if new
        else (f"webchat:{visitor}", state.rate_per_minute)
    )
    if _rate_limited(state, bucket, limit):
        response = jsonify(error=f"too many messages; at most {limit} a minute")
        response.status_code = 429
        response.headers["Retry-After"] = "60"
        return response
    webhook = WebhookRequest(
        method="POST",
        url=request.url,
        headers={"Content-Type": "application/json", VISITOR_HEADER: visitor},
        body=request.get_data(cache=False),
    )
    try:
        inbounds = state.connector.parse(webhook)
    except BadInput as exc:  # a lone surrogate, a text over the limit: the field is named
        return _error(400, str(exc), field=exc.field)
    except MalformedRequest as exc:
        return _error(400, str(exc))
    # the customer's line goes in the transcript first, so a fast reply never shows above it.
    for inbound in inbounds:
        state.connector.echo(inbound)
    accepted = ingest_for(state.services).accept(inbounds)
    body = {
        "status": "accepted" if accepted else "duplicate",
        "client_id": inbounds[0].raw.get("client_id"),
        "token": state.signer.dumps(visitor),
    }
    response = jsonify(body)
    response.status_code = 202
    return _remember(response, state, visitor) if new else response


@bp.errorhandler(StoreUnavailable)
@bp.errorhandler(TransientSendError)
@bp.errorhandler(redis.RedisError)
def _stores_down(exc: Exception):
    """Redis trouble: 503 with Retry-After; the page retries with the same client_id (deduped)."""
    log.warning("web chat %s %s failed: %s", request.method, request.path, exc)
    response = jsonify(error="we cannot take your message right now; please retry in a moment")
    response.status_code = 503
    response.headers["Retry-After"] = "2"
    return response


@bp.get("/api/messages")
def get_messages():
    """Transcript entries after ``after`` (default ``0``), waiting up to ``wait`` seconds (max 5) for one.

    The fallback of the events stream, for browsers without EventSource.
    """
    state = _state()
    after = request.args.get("after", "0")
    if not valid_cursor(after):
        return _error(400, f"after={after[:40]!r} is not a cursor; use 0 or the 'cursor' of the last answer")
    try:
        wait = float(request.args.get("wait", 0))
    except ValueError:
        wait = math.nan
    if not math.isfinite(wait):
        return _error(400, f"wait must be a number of seconds (0 to {state.max_wait_seconds:g})")
    wait = min(max(wait, 0.0), state.max_wait_seconds)
    visitor = _visitor_from_request(state)
    if visitor is None:
        return jsonify(messages=[], cursor=after, visitor=False, retry_ms=SHORT_POLL_MS)
    entries, cursor = state.connector.read(visitor, after, wait_seconds=wait)
    response = jsonify(messages=[e.to_dict() for e in entries], cursor=cursor)
    response.headers["Cache-Control"] = "no-store"
    return response


def _newer(entry_id: str, cursor: str) -> bool:
    """Whether stream id ``entry_id`` comes after ``cursor`` (``0`` or a stream id)."""

    def parts(value: str) -> tuple[int, int]:
        ms, _, seq = value.partition("-")
        return int(ms), int(seq or 0)

    return valid_cursor(entry_id) and entry_id != "0" and parts(entry_id) > parts(cursor)


def _as_event(entry: dict[str, Any]) -> SseEvent:
    return SseEvent(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), id=str(entry["id"]))


def _transcript_events(state: WebchatState, visitor: str, cursor: str) -> Iterator[SseEvent | None]:
    """The backlog after ``cursor``, then each new entry of ``visitor``'s outbox (None when idle)."""
    sub = state.hub.subscribe(lambda e: e.get("type") == "webchat" and e.get("visitor") == visitor)
    try:
        resync = True  # the backlog is read after subscribing, so nothing falls in between
        while True:
            if resync:
                entries: list[WebchatEntry]
                with state.stream_reads:
                    entries, _ = state.connector.read(visitor, cursor)
                for entry in entries:
                    if _newer(entry.id, cursor):
                        cursor = entry.id
                        yield _as_event(entry.to_dict())
                resync = False
            event = sub.get(timeout=_IDLE_SECONDS)
            if event is None:
                yield None
            elif event["type"] == "resync":
                resync = True
            else:
                published = event.get("entry")
                if isinstance(published, dict) and _newer(str(published.get("id")), cursor):
                    cursor = str(published["id"])
                    yield _as_event(published)
    except redis.RedisError as exc:
        log.warning("web chat stream for %s ended: %s", visitor, exc)  # the page reconnects
    finally:
        sub.close()


@bp.get("/api/events")
def events():
    """Server-Sent Events: the visitor's transcript after ``Last-Event-ID`` / ``after``, then live entries.

    Each event is one entry (``to_dict()`` JSON) with its stream id as the event id.
    """
    state = _state()
    after = request.headers.get("Last-Event-ID") or request.args.get("after", "0")
    if not valid_cursor(after):
        return _error(400, f"after={after[:40]!r} is not a cursor; use 0 or the id of the last event")
    visitor = _visitor_from_request(state, request.args.get("token"))
    if visitor is None:
        return _error(403, "no visitor: load /chat first (it sets the cookie), or pass its token")
    return sse_response(
        _transcript_events(state, visitor, after),
        heartbeat_seconds=state.heartbeat_seconds,
        max_seconds=state.stream_seconds,
    )

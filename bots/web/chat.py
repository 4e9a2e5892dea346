"""The web chat: the customer-facing page at ``/chat`` and its JSON API.

The web chat is a channel like Telegram: a post is parsed by
:class:`connectors.webchat.WebchatConnector`, deduped and appended to the inbound
stream by the pipeline's ``Ingest``, answered 202 at once, and handled by the
workers, which send replies through the same connector into the visitor's
outbox; the page long-polls that outbox.

Routes:
    ``GET  /chat``                       the page (sets the visitor cookie).
    ``POST /chat/api/messages``          ``{"text", "payload"?, "client_id"}`` -> 202.
    ``GET  /chat/api/messages?after=C``  replies after cursor ``C``, waiting up to ~10 s.

A visitor is a random id in a signed cookie (or, where the browser blocks
cookies in an iframe, the same signed token in the ``X-Webchat-Token`` header).

Embedding on a brand's site (served over HTTPS so the cookie can be cross-site)::

    <iframe src="https://bot.example.com/chat" title="Chat" style="width:380px;height:560px;border:0"></iframe>
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from connectors.base import WebhookRequest
from connectors.errors import MalformedRequest, TransientSendError
from connectors.webchat import VISITOR_HEADER, WebchatConnector, valid_cursor, valid_visitor_id

from ..errors import StoreUnavailable
from ..pipeline.ingest import ingest_for
from ..services import Services

log = logging.getLogger(__name__)

__all__ = ["register", "bp", "WebchatState", "COOKIE_NAME", "TOKEN_HEADER"]

COOKIE_NAME = "bb_webchat"
TOKEN_HEADER = "X-Webchat-Token"
_SALT = "brandbot.webchat.visitor"
_COOKIE_MAX_AGE = 30 * 24 * 3600
#: longest long poll, kept under gunicorn's 60 s timeout and most proxies' idle limits.
MAX_WAIT_SECONDS = 10.0
#: messages one visitor may post per minute before 429.
RATE_PER_MINUTE = 30
#: long polls held at once per process; beyond it a poll answers at once. A long
#: poll holds a server thread (gunicorn gthread: 8 per worker), so this keeps
#: threads free for webhooks and the console however many chat tabs are open.
MAX_LONG_POLLS = 4
#: how long the page should wait before polling again when it was not held.
SHORT_POLL_MS = 2500

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
    max_wait_seconds: float = MAX_WAIT_SECONDS
    rate_per_minute: int = RATE_PER_MINUTE
    max_long_polls: int = MAX_LONG_POLLS
    _long_polls: threading.BoundedSemaphore | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._long_polls = threading.BoundedSemaphore(self.max_long_polls)

    def hold_long_poll(self) -> bool:
        """Take a long-poll slot if one is free (release with :meth:`release_long_poll`)."""
        return self._long_polls.acquire(blocking=False)

    def release_long_poll(self) -> None:
        self._long_polls.release()


def register(app: Flask, services: Services) -> None:
    """Mount the web chat on ``app`` (nothing when ``channels.webchat.enabled`` is false)."""
    settings = services.settings
    if not settings.channels.webchat.enabled:
        return
    connectors = services.extras.get("connectors") or {}
    connector = connectors.get("webchat")
    if not isinstance(connector, WebchatConnector):
        connector = WebchatConnector(services.redis, settings.stores.key_prefix)
    app.extensions["webchat"] = WebchatState(
        connector=connector,
        signer=URLSafeTimedSerializer(settings.server.secret_key, salt=_SALT),
        services=services,
    )
    app.register_blueprint(bp)


def _state() -> WebchatState:
    return current_app.extensions["webchat"]


# -- visitor identity ------------------------------------------------------


def _visitor_from_request(state: WebchatState) -> str | None:
    for token in (request.headers.get(TOKEN_HEADER), request.cookies.get(COOKIE_NAME)):
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


def _remember(response, state: WebchatState, visitor: str):  # noqa: ANN001, ANN202 - flask response
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


def _error(status: int, message: str, **extra: Any):  # noqa: ANN202
    return jsonify(error=message, **extra), status


# -- routes ----------------------------------------------------------------


def _ui_language(settings) -> str:  # noqa: ANN001
    supported = [lang for lang in settings.brand.languages if lang in UI_TEXT] or ["en"]
    default = settings.brand.default_language if settings.brand.default_language in supported else supported[0]
    return request.accept_languages.best_match(supported, default=default) or default


@bp.get("")
def page():  # noqa: ANN201
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
def post_message():  # noqa: ANN201
    """Accept one customer message: parse, record, enqueue, answer 202 at once."""
    state = _state()
    if not request.is_json:
        return _error(415, "send JSON: Content-Type: application/json")
    visitor, new = _identify(state)
    # a known visitor is limited per visitor; cookie-less posts share a per-address budget.
    bucket, limit = (f"webchat-ip:{request.remote_addr}", 4 * state.rate_per_minute) if new else (f"webchat:{visitor}", state.rate_per_minute)
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
def _stores_down(exc: Exception):  # noqa: ANN202
    """Redis trouble: 503 with Retry-After; the page retries with the same client_id (deduped)."""
    log.warning("web chat %s %s failed: %s", request.method, request.path, exc)
    response = jsonify(error="we cannot take your message right now; please retry in a moment")
    response.status_code = 503
    response.headers["Retry-After"] = "2"
    return response


@bp.get("/api/messages")
def get_messages():  # noqa: ANN201
    """Transcript entries after ``after`` (default ``0``), waiting up to ``wait`` seconds for one."""
    state = _state()
    after = request.args.get("after", "0")
    if not valid_cursor(after):
        return _error(400, f"after={after[:40]!r} is not a cursor; use 0 or the 'cursor' of the last answer")
    try:
        wait = float(request.args.get("wait", state.max_wait_seconds))
    except ValueError:
        wait = math.nan
    if not math.isfinite(wait):
        return _error(400, f"wait must be a number of seconds (0 to {state.max_wait_seconds:g})")
    wait = min(max(wait, 0.0), state.max_wait_seconds)
    visitor = _visitor_from_request(state)
    if visitor is None:
        return jsonify(messages=[], cursor=after, visitor=False, retry_ms=SHORT_POLL_MS)
    held = wait > 0 and state.hold_long_poll()
    try:
        entries, cursor = state.connector.read(visitor, after, wait_seconds=wait if held else 0.0)
    finally:
        if held:
            state.release_long_poll()
    body: dict[str, Any] = {"messages": [e.to_dict() for e in entries], "cursor": cursor}
    if wait > 0 and not held and not entries:
        body["retry_ms"] = SHORT_POLL_MS  # every slot busy: come back a little later
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response

"""Twilio Messaging webhooks -> Inbound / StatusUpdate (pure, plus the signature check).

Twilio signs ``X-Twilio-Signature`` over the full URL it called and the POST
fields. Behind a proxy the URL the app sees differs from the public one, so the
URL to check is rebuilt from ``public_url`` + the request's path and query.

Every field is checked at the door with :func:`connectors.input_text.clean_text` once the
signature matched (the signature covers the fields as sent): a lone surrogate is refused,
NUL and other controls removed, NFC; ``Body`` is capped per channel. A body whose
percent-escapes are not UTF-8 (``%FF``, ``%ED%A0%80``) is refused, never guessed at.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator, get_signature_algorithm

from ..base import Attachment, AttachmentKind, Inbound, WebhookRequest
from ..errors import ForgedRequest, MalformedRequest
from ..input_text import clean_text

log = logging.getLogger(__name__)

__all__ = [
    "SIGNATURE_HEADER",
    "StatusUpdate",
    "KNOWN_STATUSES",
    "signed_url",
    "form_of",
    "verify_signature",
    "signature_matches",
    "channel_of",
    "bare_number",
    "parse_message_form",
    "parse_status_form",
    "clean_form",
    "addressed_to",
    "MAX_BODY",
    "MAX_FIELD",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
WHATSAPP = "whatsapp:"
#: longest Body accepted per channel: Twilio concatenates an inbound SMS up to 1600
#: characters; a WhatsApp text may hold 4096.
MAX_BODY = {"sms": 1600, "whatsapp": 4096}
#: longest value of any other field (names, labels, addresses, urls, fields we do not read).
MAX_FIELD = 4096
#: longest field name.
MAX_KEY = 256
KNOWN_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "receiving",
        "received",
        "canceled",
        "partially_delivered",
    }
)


def signed_url(request: WebhookRequest, public_url: str = "") -> str:
    """The URL Twilio signed: ``public_url`` + path + query when set, else the request's URL."""
    if not public_url:
        return request.url
    parts = urlsplit(request.url)
    base = public_url.rstrip("/")
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def form_of(request: WebhookRequest) -> dict[str, str]:
    """The POST fields: ``request.form``, else the urlencoded body.

    Raises:
        MalformedRequest: the body is not urlencoded UTF-8.
    """
    if request.form:
        return dict(request.form)
    if not request.body:
        return {}
    try:
        text = request.body.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"Twilio webhook body is not application/x-www-form-urlencoded UTF-8: {exc}") from exc


def signature_matches(
    url: str, params: Mapping[str, str], signature: str, auth_token: str, algorithm: str | None = None
) -> bool:
    """twilio's public ``RequestValidator(auth_token).validate(url, params, signature, algorithm)``.

    It accepts the URL with or without its default port, compares in constant time, and
    answers False (logging a warning) for an algorithm it does not support.
    """
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature, algorithm))


def verify_signature(
    request: WebhookRequest, auth_token: str, public_url: str = "", form: Mapping[str, str] | None = None
) -> None:
    """Check ``X-Twilio-Signature`` with twilio's public validator (see :func:`signature_matches`).

    Raises:
        ForgedRequest: no signature, or it does not match (answer 403).
    """
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise ForgedRequest(f"missing {SIGNATURE_HEADER} header")
    if not auth_token:
        raise ForgedRequest("no Twilio auth token is configured (TWILIO_AUTH_TOKEN); refusing every webhook")
    try:
        params = form if form is not None else form_of(request)
    except MalformedRequest as exc:
        raise ForgedRequest(f"{SIGNATURE_HEADER} cannot match an unreadable body: {exc}") from exc
    url = signed_url(request, public_url)
    algorithm = get_signature_algorithm(request.header(SETTINGS_HEADER))
    if not signature_matches(url, params, signature, auth_token, algorithm):
        raise ForgedRequest(
            f"{SIGNATURE_HEADER} does not match {url!r}; if the app runs behind a proxy, set "
            "channels.twilio.public_url to the base URL Twilio calls"
        )


def channel_of(address: str) -> str:
    """``"whatsapp"`` for ``whatsapp:+31...`` addresses, else ``"sms"``."""
    return "whatsapp" if address.startswith(WHATSAPP) else "sms"


def bare_number(address: str) -> str:
    """``"whatsapp:+31612345678"`` -> ``"+31612345678"``; ``"sms:+1..."`` -> ``"+1..."``."""
    for prefix in (WHATSAPP, "sms:"):
        if address.startswith(prefix):
            return address[len(prefix) :]
    return address


def clean_form(form: Mapping[str, str]) -> dict[str, str]:
    """Every field name and value through :func:`clean_text` (values capped at :data:`MAX_FIELD`).

    Raises:
        BadInput: a name or value is not a string, holds a lone surrogate, or is too long.
    """
    out: dict[str, str] = {}
    for key, value in form.items():
        name = clean_text(key, field="field name", max_chars=MAX_KEY)
        out[name] = clean_text(value, field=name, max_chars=MAX_FIELD)
    return out


def addressed_to(form: Mapping[str, str], numbers: Mapping[str, str]) -> bool:
    """Whether an incoming message was sent to one of ours.

    Args:
        form: the webhook's fields (``To``, ``MessagingServiceSid``).
        numbers: channel (``"whatsapp"``, ``"sms"``) -> our sender for it: a number
            (``whatsapp:+3120...``, ``+3120...``) or a Messaging Service ``MG...``.

    Returns:
        True when ``To`` is our number of that channel, or the message came through our
        Messaging Service of that channel; False otherwise (no ``To`` included).
    """
    to = form.get("To", "")
    channel = channel_of(to)
    ours = numbers.get(channel, "")
    if not to or not ours:
        return False
    if ours.startswith("MG"):
        return form.get("MessagingServiceSid", "") == ours
    return bare_number(to) == bare_number(ours)


def _required(form: Mapping[str, str], key: str, what: str) -> str:
    value = form.get(key, "")
    if not value:
        raise MalformedRequest(f"Twilio {what} has no {key} (got fields {sorted(form)})")
    return value


_MEDIA_KINDS: dict[str, AttachmentKind] = {"image": "image", "video": "video", "audio": "audio"}


def _media_kind(content_type: str) -> AttachmentKind:
    major = content_type.split("/", 1)[0]
    return _MEDIA_KINDS.get(major, "document")


def _float(form: Mapping[str, str], key: str, limit: float) -> float:
    """A coordinate: finite and within ``-limit..limit`` (NaN cannot be stored as JSON)."""
    try:
        value = float(form[key])
    except ValueError as exc:
        raise MalformedRequest(f"Twilio field {key}={form[key][:40]!r} is not a number") from exc
    if not math.isfinite(value) or abs(value) > limit:
        raise MalformedRequest(f"Twilio field {key}={form[key][:40]!r} is not a coordinate (-{limit:g}..{limit:g})")
    return value


def parse_message_form(form: Mapping[str, str], received_at: datetime | None = None) -> Inbound:
    """One incoming Twilio message (SMS or WhatsApp) as an Inbound.

    ``message_id`` is the MessageSid; ``sender_id`` the bare number (``+316...``);
    ``conversation_id`` ``"whatsapp:+316..."`` or ``"sms:+316..."``. WhatsApp
    template button presses set ``payload`` (ButtonPayload) and ``kind="callback"``.

    Raises:
        BadInput: a field holds a lone surrogate, or is longer than its cap (Body: :data:`MAX_BODY`).
        MalformedRequest: MessageSid or From missing, bad NumMedia or coordinates.
    """
    form = clean_form(form)
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not sid:
        raise MalformedRequest(f"Twilio message webhook has no MessageSid (got fields {sorted(form)})")
    sender = _required(form, "From", "message webhook")
    channel = channel_of(sender)
    number = bare_number(sender)
    attachments: list[Attachment] = []
    try:
        count = int(form.get("NumMedia", "0") or 0)
    except ValueError as exc:
        raise MalformedRequest(f"Twilio NumMedia={form.get('NumMedia')!r} is not a number") from exc
    for i in range(count):
        url = form.get(f"MediaUrl{i}")
        if not url:
            raise MalformedRequest(f"Twilio NumMedia={count} but MediaUrl{i} is missing")
        ctype = form.get(f"MediaContentType{i}", "")
        attachments.append(Attachment(_media_kind(ctype), url=url, mime_type=ctype or None))
    if form.get("Latitude") and form.get("Longitude"):
        attachments.append(
            Attachment(
                "location",
                latitude=_float(form, "Latitude", 90),
                longitude=_float(form, "Longitude", 180),
                name=form.get("Label") or None,
                caption=form.get("Address") or None,
            )
        )
    payload = form.get("ButtonPayload") or None
    body = clean_text(form.get("Body", "") or form.get("ButtonText", ""), field="Body", max_chars=MAX_BODY[channel])
    return Inbound(
        channel=channel,
        sender_id=number,
        conversation_id=f"{channel}:{number}",
        message_id=sid,
        text=body,
        timestamp=received_at or datetime.now(UTC),
        kind="callback" if payload else "message",
        attachments=tuple(attachments),
        payload=payload,
        sender_name=form.get("ProfileName") or None,
        raw=dict(form),
    )


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A Twilio status callback about one outbound message (record it against the delivery).

    ``status``: queued, sent, delivered, read, undelivered, failed (and Twilio's other states).
    """

    message_sid: str
    status: str
    channel: str
    recipient: str
    error_code: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "undelivered")

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_sid": self.message_sid,
            "status": self.status,
            "channel": self.channel,
            "recipient": self.recipient,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "raw": dict(self.raw),
        }


def parse_status_form(form: Mapping[str, str]) -> StatusUpdate:
    """A status callback (MessageSid, MessageStatus, ErrorCode...) as a StatusUpdate.

    Raises:
        BadInput: a field holds a lone surrogate or is too long.
        MalformedRequest: MessageSid or MessageStatus missing.
    """
    form = clean_form(form)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        raise MalformedRequest(f"Twilio status callback has no MessageSid (got fields {sorted(form)})")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not status:
        raise MalformedRequest(f"Twilio status callback for {sid} has no MessageStatus")
    if status not in KNOWN_STATUSES:
        log.warning(
            "Twilio status callback for %s: unknown status %r kept as is (known: %s)",
            sid,
            status,
            sorted(KNOWN_STATUSES),
        )
    to = form.get("To", "")
    return StatusUpdate(
        message_sid=sid,
        status=status,
        channel=channel_of(to),
        recipient=bare_number(to),
        error_code=form.get("ErrorCode") or None,
        error_message=form.get("ErrorMessage") or None,
        raw=dict(form),
    )

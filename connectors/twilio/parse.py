"""Twilio Messaging webhooks -> Inbound / StatusUpdate (pure, plus the signature check).

Twilio signs ``X-Twilio-Signature`` over the full URL it called and the POST
fields. Behind a proxy the URL the app sees differs from the public one, so the
URL to check is rebuilt from ``public_url`` + the request's path and query.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator, get_signature_algorithm

from ..base import Attachment, AttachmentKind, Inbound, WebhookRequest
from ..errors import ForgedRequest, MalformedRequest

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
]

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
WHATSAPP = "whatsapp:"
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
        return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
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


def _required(form: Mapping[str, str], key: str, what: str) -> str:
    value = form.get(key, "")
    if not value:
        raise MalformedRequest(f"Twilio {what} has no {key} (got fields {sorted(form)})")
    return value


_MEDIA_KINDS: dict[str, AttachmentKind] = {"image": "image", "video": "video", "audio": "audio"}


def _media_kind(content_type: str) -> AttachmentKind:
    major = content_type.split("/", 1)[0]
    return _MEDIA_KINDS.get(major, "document")


def _float(form: Mapping[str, str], key: str) -> float:
    try:
        return float(form[key])
    except ValueError as exc:
        raise MalformedRequest(f"Twilio field {key}={form[key]!r} is not a number") from exc


def parse_message_form(form: Mapping[str, str], received_at: datetime | None = None) -> Inbound:
    """One incoming Twilio message (SMS or WhatsApp) as an Inbound.

    ``message_id`` is the MessageSid; ``sender_id`` the bare number (``+316...``);
    ``conversation_id`` ``"whatsapp:+316..."`` or ``"sms:+316..."``. WhatsApp
    template button presses set ``payload`` (ButtonPayload) and ``kind="callback"``.

    Raises:
        MalformedRequest: MessageSid or From missing, bad NumMedia or coordinates.
    """
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
                latitude=_float(form, "Latitude"),
                longitude=_float(form, "Longitude"),
                name=form.get("Label") or None,
                caption=form.get("Address") or None,
            )
        )
    payload = form.get("ButtonPayload") or None
    return Inbound(
        channel=channel,
        sender_id=number,
        conversation_id=f"{channel}:{number}",
        message_id=sid,
        text=form.get("Body", "") or form.get("ButtonText", ""),
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
        MalformedRequest: MessageSid or MessageStatus missing.
    """
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

"""Telegram webhook requests and updates -> :class:`~connectors.base.Inbound` (pure).

``verify_secret`` checks the ``X-Telegram-Bot-Api-Secret-Token`` header in
constant time; ``parse_update`` turns one Update (as Telegram sends it) into
zero or more Inbounds with python-telegram-bot's own ``Update.de_json``.
Every update kind is handled on purpose: unknown or irrelevant kinds give an
empty list, never a crash.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, ChatMemberUpdated, Message, Update

from ..base import Attachment, Inbound, WebhookRequest
from ..errors import ForgedRequest, MalformedRequest

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "SECRET_HEADER", "verify_secret", "decode_body", "parse_update", "conversation_id"]

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def conversation_id(chat_id: int | str) -> str:
    return f"{CHANNEL}:{chat_id}"


def verify_secret(request: WebhookRequest, secret: str) -> None:
    """Compare the secret-token header with ``secret`` in constant time.

    Raises:
        ForgedRequest: the header is missing or differs (answer 403).
    """
    if not secret:
        raise ForgedRequest(
            "no Telegram webhook secret is configured (channels.telegram.webhook_secret); refusing every update"
        )
    got = request.header(SECRET_HEADER)
    if got is None:
        raise ForgedRequest(f"missing {SECRET_HEADER} header")
    if not hmac.compare_digest(got.encode("utf-8"), secret.encode("utf-8")):
        raise ForgedRequest(f"{SECRET_HEADER} header does not match the configured secret")


def decode_body(body: bytes) -> dict[str, Any]:
    """The update as a dict.

    Raises:
        MalformedRequest: not UTF-8 JSON, not an object, or no integer ``update_id``.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"Telegram update is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedRequest(f"Telegram update must be a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("update_id"), int) or isinstance(data.get("update_id"), bool):
        raise MalformedRequest(f"Telegram update has no integer update_id (got {data.get('update_id')!r})")
    return data


def _when(dt: datetime | None) -> datetime:
    if dt is None:
        return datetime.now(UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return getattr(user, "full_name", None) or getattr(user, "username", None)


def _attachments(msg: Message) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    caption = msg.caption or None
    if msg.photo:
        biggest = max(msg.photo, key=lambda p: (p.width or 0) * (p.height or 0))
        out.append(Attachment("image", file_id=biggest.file_id, caption=caption))
    if msg.document:
        d = msg.document
        out.append(Attachment("document", file_id=d.file_id, mime_type=d.mime_type, name=d.file_name, caption=caption))
    if msg.video:
        out.append(Attachment("video", file_id=msg.video.file_id, mime_type=msg.video.mime_type, caption=caption))
    if msg.audio:
        out.append(Attachment("audio", file_id=msg.audio.file_id, mime_type=msg.audio.mime_type, caption=caption))
    if msg.voice:
        out.append(Attachment("audio", file_id=msg.voice.file_id, mime_type=msg.voice.mime_type, caption=caption))
    if msg.sticker:
        out.append(Attachment("sticker", file_id=msg.sticker.file_id, name=msg.sticker.emoji))
    if msg.location and not msg.venue:
        out.append(Attachment("location", latitude=msg.location.latitude, longitude=msg.location.longitude))
    if msg.venue:
        v = msg.venue
        out.append(Attachment("location", latitude=v.location.latitude, longitude=v.location.longitude, name=v.title))
    if msg.contact:
        c = msg.contact
        out.append(
            Attachment("contact", name=" ".join(p for p in (c.first_name, c.last_name) if p), caption=c.phone_number)
        )
    return tuple(out)


def _inbound(update_id: int, chat_id: int, raw: Mapping[str, Any], **fields: Any) -> Inbound:
    """An Inbound of chat ``chat_id`` keyed on ``update_id``; ``fields`` give the rest."""
    return Inbound(
        channel=CHANNEL,
        sender_id=str(chat_id),
        conversation_id=conversation_id(chat_id),
        message_id=str(update_id),
        raw=raw,
        **fields,
    )


def _from_message(update_id: int, msg: Message, kind: str, raw: Mapping[str, Any]) -> list[Inbound]:
    base: dict[str, Any] = dict(
        update_id=update_id,
        chat_id=msg.chat.id,
        raw=raw,
        timestamp=_when(msg.edit_date if kind == "edit" and msg.edit_date else msg.date),
        sender_name=_name(msg.from_user),
    )
    if msg.new_chat_members:
        return [_inbound(**base, kind="event", event="member_joined")]
    if msg.left_chat_member:
        return [_inbound(**base, kind="event", event="member_left")]
    text = msg.text or msg.caption or ""
    attachments = _attachments(msg)
    if not text and not attachments:
        # service messages (pinned, title changed, ...), polls, games: nothing a customer said.
        log.info("telegram update %s: message without text or media ignored", update_id)
        return []
    return [_inbound(**base, kind=kind, text=text, attachments=attachments)]


def _button_title(query: CallbackQuery) -> str:
    msg = query.message  # a Message, or an InaccessibleMessage (too old) that has no keyboard
    markup = msg.reply_markup if isinstance(msg, Message) else None
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return ""


def _from_callback(update_id: int, query: CallbackQuery, raw: Mapping[str, Any]) -> list[Inbound]:
    msg = query.message
    chat_id = msg.chat.id if msg is not None else query.from_user.id
    return [
        _inbound(
            update_id,
            chat_id,
            raw,
            kind="callback",
            text=_button_title(query),
            payload=query.data,
            sender_name=_name(query.from_user),
            timestamp=datetime.now(UTC),
        )
    ]


def _from_member(update_id: int, change: ChatMemberUpdated, raw: Mapping[str, Any]) -> list[Inbound]:
    """The bot's own membership in a private chat: blocked / unblocked by the customer."""
    if change.chat.type != "private":
        return []
    status = change.new_chat_member.status
    event = "bot_blocked" if status in ("kicked", "left") else "bot_unblocked"
    return [
        _inbound(
            update_id,
            change.chat.id,
            raw,
            kind="event",
            event=event,
            sender_name=_name(change.from_user),
            timestamp=_when(change.date),
        )
    ]


def parse_update(data: Mapping[str, Any]) -> list[Inbound]:
    """Turn one Telegram Update (decoded JSON) into Inbounds.

    ``message_id`` is ``str(update_id)`` (dedupe key); ``sender_id`` is the chat id
    (the address to reply to); ``conversation_id`` is ``"telegram:<chat_id>"``.
    Callback queries give ``kind="callback"`` with ``payload`` = the callback data
    (as sent: hashed long payloads are resolved by the connector).

    Raises:
        MalformedRequest: the update does not have the shape Telegram gives.
    """
    update_id = data.get("update_id")
    if not isinstance(update_id, int):
        raise MalformedRequest(f"Telegram update has no integer update_id (got {update_id!r})")
    try:
        update = Update.de_json(dict(data), None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedRequest(f"Telegram update {update_id} does not have the Bot API shape: {exc!r}") from exc
    try:
        if update.message is not None:
            return _from_message(update_id, update.message, "message", data)
        if update.edited_message is not None:
            return _from_message(update_id, update.edited_message, "edit", data)
        if update.callback_query is not None:
            return _from_callback(update_id, update.callback_query, data)
        if update.my_chat_member is not None:
            return _from_member(update_id, update.my_chat_member, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedRequest(f"Telegram update {update_id} does not have the Bot API shape: {exc!r}") from exc
    kinds = sorted(k for k, v in data.items() if k != "update_id" and v is not None)
    log.info("telegram update %s of kind %s ignored (not a customer message)", update_id, kinds)
    return []

"""Telegram webhook requests and updates -> :class:`~connectors.base.Inbound` (pure).

``verify_secret`` checks the ``X-Telegram-Bot-Api-Secret-Token`` header in
constant time; ``parse_update`` turns one Update (as Telegram sends it) into
zero or more Inbounds with python-telegram-bot's own ``Update.de_json``.
A customer's emoji reaction (``message_reaction``, private chats) is an event ``reaction``: a
signal recorded for staff and insights, never answered. Every update kind is handled on purpose:
kinds the bot does not handle (``poll_answer``, ``chat_join_request``, ``message_reaction_count``...)
give an empty list without being decoded
(Telegram adds required fields to them faster than python-telegram-bot follows, and a 400
would make Telegram retry them); the webhook answers 200 and counts them.

Every string of an update is checked at the door with :func:`connectors.input_text.clean_text`
(a lone surrogate is refused, NUL and other controls removed, NFC), including the raw update
kept on the Inbound; the free texts (text, caption, callback data, names) are capped.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, ChatMemberUpdated, Message, MessageReactionUpdated, ReactionTypeEmoji, Update, User

from ..base import Attachment, AttachmentKind, Inbound, WebhookRequest
from ..errors import ForgedRequest, MalformedRequest
from ..input_text import clean_text

log = logging.getLogger(__name__)

__all__ = [
    "CHANNEL",
    "SECRET_HEADER",
    "HANDLED_KINDS",
    "MAX_TEXT",
    "MAX_CALLBACK_DATA",
    "MAX_NAME",
    "verify_secret",
    "decode_body",
    "parse_update",
    "update_kind",
    "conversation_id",
]

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: update kinds that carry something a customer wrote or did; every other kind is ignored.
HANDLED_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "message_reaction")
#: the Bot API's update kinds (for the metrics label; any other name counts as "other").
KNOWN_KINDS = frozenset(
    {
        *HANDLED_KINDS,
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
#: longest text or caption Telegram delivers (4096 UTF-16 units: never more code points).
MAX_TEXT = 4096
#: callback data is at most 64 bytes.
MAX_CALLBACK_DATA = 64
#: names (first + last, file names, venue titles...): Telegram's are far shorter.
MAX_NAME = 512
#: any other string of an update (ids, urls, fields the bot does not read).
MAX_OTHER = 16_384


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
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"Telegram update is not UTF-8 JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedRequest("Telegram update is nested too deeply") from exc
    if not isinstance(data, dict):
        raise MalformedRequest(f"Telegram update must be a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("update_id"), int) or isinstance(data.get("update_id"), bool):
        raise MalformedRequest(f"Telegram update has no integer update_id (got {data.get('update_id')!r})")
    return data


def _no_constant(name: str) -> Any:
    """JSON has no NaN nor Infinity (Python's decoder accepts them; PostgreSQL's jsonb does not)."""
    raise ValueError(f"{name} is not a JSON value")


def update_kind(data: Mapping[str, Any]) -> str:
    """The update's kind: the handled one it carries, else the first other field, as a label.

    ``"none"`` when it carries nothing besides ``update_id``; ``"other"`` for a name that is
    not a Bot API update kind (a bounded label for the metrics).
    """
    present = [k for k, v in data.items() if k != "update_id" and v is not None]
    handled = [k for k in HANDLED_KINDS if k in present]
    if handled:
        return handled[0]
    if not present:
        return "none"
    return present[0] if present[0] in KNOWN_KINDS else "other"


def _clean_tree(value: Any, path: str) -> Any:
    """``value`` (decoded JSON) with every string, key included, through :func:`clean_text`.

    Raises:
        BadInput: a string holds a lone surrogate or is longer than :data:`MAX_OTHER`.
    """
    if isinstance(value, str):
        return clean_text(value, field=path, max_chars=MAX_OTHER)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = clean_text(key, field=f"{path} key", max_chars=MAX_NAME)
            out[name] = _clean_tree(item, f"{path}.{name}")
        return out
    if isinstance(value, list):
        return [_clean_tree(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _text(value: str | None, field: str, max_chars: int) -> str:
    """A free text of the update (already cleaned by :func:`_clean_tree`), capped."""
    return clean_text(value or "", field=field, max_chars=max_chars)


def _opt(value: str | None, field: str, max_chars: int = MAX_NAME) -> str | None:
    return _text(value, field, max_chars) or None


def _coordinate(value: object, field: str, limit: float) -> float:
    """A latitude / longitude: a finite number within ``-limit..limit`` (Telegram's always is)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) <= limit:
        raise MalformedRequest(f"Telegram {field} {value!r:.40} is not a coordinate (-{limit:g}..{limit:g})")
    return float(value)


def _file_id(value: object, field: str) -> str:
    return clean_text(value, field=field, max_chars=MAX_NAME, required=True)


def _when(dt: datetime | None) -> datetime:
    if dt is None:
        return datetime.now(UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _name(user: User | None, field: str) -> str | None:
    if user is None:
        return None
    return _opt(user.full_name or user.username, field)


#: Message fields holding a file with a mime type, and the attachment kind each becomes.
_MEDIA: tuple[tuple[str, AttachmentKind], ...] = (("video", "video"), ("audio", "audio"), ("voice", "audio"))


def _attachments(msg: Message) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    caption = _opt(msg.caption, "message.caption", MAX_TEXT)
    if msg.photo:
        biggest = max(msg.photo, key=lambda p: (p.width or 0) * (p.height or 0))
        out.append(Attachment("image", file_id=_file_id(biggest.file_id, "message.photo.file_id"), caption=caption))
    if msg.document:
        d = msg.document
        out.append(
            Attachment(
                "document",
                file_id=_file_id(d.file_id, "message.document.file_id"),
                mime_type=_opt(d.mime_type, "message.document.mime_type"),
                name=_opt(d.file_name, "message.document.file_name"),
                caption=caption,
            )
        )
    for field, kind in _MEDIA:
        media = getattr(msg, field)
        if media:
            out.append(
                Attachment(
                    kind,
                    file_id=_file_id(media.file_id, f"message.{field}.file_id"),
                    mime_type=_opt(media.mime_type, f"message.{field}.mime_type"),
                    caption=caption,
                )
            )
    if msg.sticker:
        out.append(
            Attachment(
                "sticker",
                file_id=_file_id(msg.sticker.file_id, "message.sticker.file_id"),
                name=_opt(msg.sticker.emoji, "message.sticker.emoji"),
            )
        )
    if msg.location and not msg.venue:
        loc = msg.location
        out.append(
            Attachment(
                "location",
                latitude=_coordinate(loc.latitude, "message.location.latitude", 90),
                longitude=_coordinate(loc.longitude, "message.location.longitude", 180),
            )
        )
    if msg.venue:
        v = msg.venue
        out.append(
            Attachment(
                "location",
                latitude=_coordinate(v.location.latitude, "message.venue.location.latitude", 90),
                longitude=_coordinate(v.location.longitude, "message.venue.location.longitude", 180),
                name=_opt(v.title, "message.venue.title"),
            )
        )
    if msg.contact:
        c = msg.contact
        name = " ".join(p for p in (c.first_name, c.last_name) if p)
        out.append(
            Attachment(
                "contact",
                name=_opt(name, "message.contact.name"),
                caption=_opt(c.phone_number, "message.contact.phone_number"),
            )
        )
    return tuple(out)


def _inbound(update_id: int, chat_id: int, raw: Mapping[str, Any], **fields: Any) -> Inbound:
    """An Inbound of chat ``chat_id`` keyed on ``update_id``; ``fields`` give the rest."""
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise MalformedRequest(f"Telegram update {update_id}: chat id {chat_id!r:.40} is not an integer")
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
        sender_name=_name(msg.from_user, "message.from"),
    )
    if msg.new_chat_members:
        return [_inbound(**base, kind="event", event="member_joined")]
    if msg.left_chat_member:
        return [_inbound(**base, kind="event", event="member_left")]
    text = _text(msg.text, "message.text", MAX_TEXT) or _text(msg.caption, "message.caption", MAX_TEXT)
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
                return _text(button.text, "inline_keyboard.text", MAX_NAME)
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
            payload=_opt(query.data, "callback_query.data", MAX_CALLBACK_DATA),
            sender_name=_name(query.from_user, "callback_query.from"),
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
            sender_name=_name(change.from_user, "my_chat_member.from"),
            timestamp=_when(change.date),
        )
    ]


def _from_reaction(update_id: int, change: MessageReactionUpdated, raw: Mapping[str, Any]) -> list[Inbound]:
    """A customer's emoji reaction to a message (or its removal): an event, never a message."""
    if change.chat.type != "private":
        return []
    old = {r.emoji for r in change.old_reaction if isinstance(r, ReactionTypeEmoji)}
    new = [r.emoji for r in change.new_reaction if isinstance(r, ReactionTypeEmoji)]
    added = [e for e in new if e not in old]
    action = "react" if added or (change.new_reaction and not change.old_reaction) else "unreact"
    return [
        _inbound(
            update_id,
            change.chat.id,
            {**raw, "reacted_to": str(change.message_id), "action": action},
            kind="event",
            event="reaction",
            text=_text(added[0] if added else "", "message_reaction.new_reaction", MAX_NAME),
            sender_name=_name(change.user, "message_reaction.user"),
            timestamp=_when(change.date),
        )
    ]


def parse_update(data: Mapping[str, Any]) -> list[Inbound]:
    """Turn one Telegram Update (decoded JSON) into Inbounds.

    ``message_id`` is ``str(update_id)`` (dedupe key); ``sender_id`` is the chat id
    (the address to reply to); ``conversation_id`` is ``"telegram:<chat_id>"``.
    Callback queries give ``kind="callback"`` with ``payload`` = the callback data
    (as sent: hashed long payloads are resolved by the connector). A kind not in
    :data:`HANDLED_KINDS` gives ``[]`` without being decoded.

    Raises:
        BadInput: a string holds a lone surrogate, or a text is longer than its cap.
        MalformedRequest: the update does not have the shape Telegram gives.
    """
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise MalformedRequest(f"Telegram update has no integer update_id (got {update_id!r})")
    kind = update_kind(data)
    if kind not in HANDLED_KINDS:
        log.info("telegram update %s of kind %s ignored (not a customer message)", update_id, kind)
        return []
    if not isinstance(data[kind], dict):
        raise MalformedRequest(f"Telegram update {update_id}: {kind} must be an object")
    try:
        clean = _clean_tree(dict(data), "update")
    except RecursionError as exc:
        raise MalformedRequest(f"Telegram update {update_id} is nested too deeply") from exc
    try:
        update = Update.de_json(clean, None)
        if update.message is not None:
            return _from_message(update_id, update.message, "message", clean)
        if update.edited_message is not None:
            return _from_message(update_id, update.edited_message, "edit", clean)
        if update.callback_query is not None:
            return _from_callback(update_id, update.callback_query, clean)
        if update.my_chat_member is not None:
            return _from_member(update_id, update.my_chat_member, clean)
        if update.message_reaction is not None:
            return _from_reaction(update_id, update.message_reaction, clean)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, OSError) as exc:
        raise MalformedRequest(f"Telegram update {update_id} does not have the Bot API shape: {exc!r}") from exc
    log.info("telegram update %s of kind %s ignored (nothing a customer said)", update_id, kind)
    return []

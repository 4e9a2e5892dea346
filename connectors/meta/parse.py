"""Meta webhooks (Messenger, Instagram, WhatsApp Cloud) -> Inbound / MetaStatus (pure).

One POST body may hold several entries, each with several events (``entry[].messaging[]``
for Messenger and Instagram, ``entry[].changes[].value.messages[]`` / ``.statuses[]`` for
WhatsApp Cloud): :func:`parse_delivery` gives them back in order, and names every event
it turns into nothing in :attr:`MetaDelivery.ignored` (for the metrics).

Every string read is checked at the door with :func:`connectors.input_text.clean_text`
(a lone surrogate is refused, NUL and other controls removed, NFC), under the JSON path it
came from (``entry[0].messaging[1].message.text``); texts are capped per channel
(:data:`MAX_TEXT`). Ids become conversation ids, so they must be digits. A body of the
wrong shape raises :class:`~connectors.errors.MalformedRequest` naming the path, never
a KeyError or TypeError. Events the bot does not act on (reads, deliveries, echoes of our
own sends...) are not checked beyond what tells them apart: a shape Meta changes there
must not refuse the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import Attachment, AttachmentKind, Inbound
from .delivery import (
    CHANNELS,
    GET_STARTED,
    GREET_PAYLOAD,
    MAX_ID,
    MAX_NAME,
    MAX_PAYLOAD,
    MAX_TEXT,
    Collected,
    MetaAccounts,
    MetaDelivery,
    MetaStatus,
)
from .json_reader import (
    decode_body,
    event_count,
    fail,
    read_coordinate,
    read_digits,
    read_list,
    read_number,
    read_obj,
    read_optional,
    read_required,
    read_text,
    read_time,
    short,
)
from .whatsapp_parse import whatsapp_entry

__all__ = [
    "MetaAccounts",
    "MetaStatus",
    "MetaDelivery",
    "parse_delivery",
    "GET_STARTED",
    "GREET_PAYLOAD",
    "CHANNELS",
    "MAX_TEXT",
    "MAX_PAYLOAD",
    "MAX_NAME",
]

#: Messenger / Instagram event fields the bot does not act on, each its own ignored kind.
_IGNORED_EVENTS = (
    "read",
    "delivery",
    "referral",
    "optin",
    "account_linking",
    "message_edit",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "policy_enforcement",
)
#: Messenger / Instagram attachment types kept as such; every other type is a "document".
_ATTACHMENT_KINDS: dict[str, AttachmentKind] = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "document",
}


def parse_delivery(body: bytes, accounts: MetaAccounts, *, get_started_payload: str = GET_STARTED) -> MetaDelivery:
    """Turn one Meta webhook body (raw bytes, signature already checked) into Inbounds and statuses.

    Args:
        body: the POST body.
        accounts: our page, Instagram account and WhatsApp phone number ids; entries for
            other ids (or for a product whose id is empty) are ignored as ``"not_ours"``.
        get_started_payload: the Get Started button's payload; such a postback gets the
            payload :data:`GREET_PAYLOAD`.

    Returns:
        The Inbounds and WhatsApp statuses in body order, and the kinds of the events ignored.

    Raises:
        BadInput: a string holds a lone surrogate or is longer than its cap.
        MalformedRequest: not a UTF-8 JSON object, an unknown ``object``, ``entry`` not a
            list, or an event without a field it needs (sender id, message id, timestamp...).
    """
    data = decode_body(body)
    kind = data.get("object")
    if not isinstance(kind, str) or kind not in CHANNELS:
        raise fail("object", f"{short(kind)} is not one of {sorted(CHANNELS)}")
    channel = CHANNELS[kind]
    out = Collected([], [], [])
    for i, entry in enumerate(read_list(data.get("entry"), "entry")):
        path = f"entry[{i}]"
        entry = read_obj(entry, path)
        if channel == "whatsapp_cloud":
            whatsapp_entry(out, entry, path, accounts.phone_number_id)
        else:
            ours = accounts.page_id if channel == "messenger" else accounts.instagram_id
            _messaging_entry(out, entry, path, channel, ours, get_started_payload)
    return MetaDelivery(out.inbounds, out.statuses, out.ignored)


# -- Messenger and Instagram -----------------------------------------------------------


def _messaging_entry(
    out: Collected, entry: dict[str, Any], path: str, channel: str, ours: str, get_started: str
) -> None:
    account = read_digits(entry.get("id"), f"{path}.id")
    if not ours or account != ours:
        out.ignored.extend(["not_ours"] * event_count(entry, "messaging", "standby", "changes"))
        return
    if "standby" in entry:
        out.ignored.extend(["standby"] * len(read_list(entry["standby"], f"{path}.standby")))
    if "changes" in entry:  # feed, comments, mentions: not messages
        for j, change in enumerate(read_list(entry["changes"], f"{path}.changes")):
            field = read_text(read_obj(change, f"{path}.changes[{j}]").get("field"), f"{path}.changes[{j}].field", 64)
            out.ignored.append(f"field:{field}")
    if "messaging" not in entry:
        return
    raw = {"object": "page" if channel == "messenger" else "instagram", "account_id": account}
    for j, event in enumerate(read_list(entry["messaging"], f"{path}.messaging")):
        at = f"{path}.messaging[{j}]"
        result = _messaging_event(read_obj(event, at), at, channel, raw, get_started)
        if isinstance(result, Inbound):
            out.inbounds.append(result)
        else:
            out.ignored.append(result)


def _messaging_event(
    event: dict[str, Any], at: str, channel: str, raw: Mapping[str, Any], get_started: str
) -> Inbound | str:
    """One ``messaging[]`` event as an Inbound, or the kind it is ignored as."""
    message = event.get("message")
    if isinstance(message, dict):
        for flag, kind in (("is_echo", "echo"), ("is_deleted", "deleted"), ("is_unsupported", "unsupported")):
            if message.get(flag) is True:
                return kind
    handled = [k for k in ("message", "postback", "reaction") if k in event]
    if not handled:
        return next((k for k in _IGNORED_EVENTS if k in event), "unknown")
    sender_obj = read_obj(event.get("sender"), f"{at}.sender")
    if "id" not in sender_obj and "user_ref" in sender_obj:
        return "user_ref"  # a chat plugin guest or checkbox opt-in: no PSID to answer to yet
    sender = read_digits(sender_obj.get("id"), f"{at}.sender.id")
    ms = read_number(event.get("timestamp"), f"{at}.timestamp")
    timestamp = read_time(ms, f"{at}.timestamp", 1000)
    base: dict[str, Any] = dict(
        channel=channel, sender_id=sender, conversation_id=f"{channel}:{sender}", timestamp=timestamp, raw=raw
    )
    cap = MAX_TEXT[channel]
    key = handled[0]
    if key == "message":
        return _message(read_obj(message, f"{at}.message"), f"{at}.message", cap, base)
    if key == "postback":
        p = f"{at}.postback"
        postback = read_obj(event["postback"], p)
        payload = read_required(postback.get("payload"), f"{p}.payload", MAX_PAYLOAD)
        mid = read_optional(postback.get("mid"), f"{p}.mid", MAX_ID) or f"postback:{sender}:{ms}"
        return Inbound(
            **base,
            message_id=mid,
            kind="callback",
            payload=GREET_PAYLOAD if payload == get_started else payload,
            text=read_text(postback.get("title"), f"{p}.title", cap),
        )
    p = f"{at}.reaction"
    reaction = read_obj(event["reaction"], p)
    mid = read_required(reaction.get("mid"), f"{p}.mid")
    action = read_required(reaction.get("action"), f"{p}.action", 32)
    emoji = read_text(reaction.get("emoji"), f"{p}.emoji", MAX_NAME)
    text = emoji or read_text(reaction.get("reaction"), f"{p}.reaction", MAX_NAME)
    return Inbound(
        **{**base, "raw": {**raw, "reacted_to": mid, "action": action}},
        message_id=f"reaction:{sender}:{mid}:{action}:{emoji}",
        kind="event",
        event="reaction",
        text=text,
    )


def _message(message: dict[str, Any], at: str, cap: int, base: dict[str, Any]) -> Inbound | str:
    mid = read_required(message.get("mid"), f"{at}.mid")
    text = read_text(message.get("text"), f"{at}.text", cap)
    attachments = tuple(
        _attachment(read_obj(a, f"{at}.attachments[{k}]"), f"{at}.attachments[{k}]")
        for k, a in enumerate(read_list(message.get("attachments", []), f"{at}.attachments"))
    )
    payload = None
    if "quick_reply" in message:
        qr = f"{at}.quick_reply"
        payload = read_required(read_obj(message["quick_reply"], qr).get("payload"), f"{qr}.payload", MAX_PAYLOAD)
    if not text and not attachments and payload is None:
        return "empty"
    return Inbound(
        **base,
        message_id=mid,
        text=text,
        kind="callback" if payload is not None else "message",
        payload=payload,
        attachments=attachments,
    )


def _attachment(att: dict[str, Any], at: str) -> Attachment:
    """A Messenger / Instagram attachment: image, video, audio, file, location; others a document."""
    meta_type = read_required(att.get("type"), f"{at}.type", 64)
    payload = att.get("payload")
    payload = read_obj(payload, f"{at}.payload") if payload is not None else {}
    url = read_optional(payload.get("url"), f"{at}.payload.url", MAX_ID) or read_optional(
        att.get("url"), f"{at}.url", MAX_ID
    )
    title = read_optional(payload.get("title"), f"{at}.payload.title") or read_optional(att.get("title"), f"{at}.title")
    if meta_type == "location":
        coords = read_obj(payload.get("coordinates"), f"{at}.payload.coordinates")
        return Attachment(
            "location",
            latitude=read_coordinate(coords.get("lat"), f"{at}.payload.coordinates.lat", 90),
            longitude=read_coordinate(coords.get("long"), f"{at}.payload.coordinates.long", 180),
            name=title,
        )
    if meta_type == "image" and payload.get("sticker_id") is not None:
        return Attachment("sticker", url=url)
    kind = _ATTACHMENT_KINDS.get(meta_type)
    if kind is None:  # fallback, template, share, story_mention, ig_reel...: the type names it
        return Attachment("document", url=url, name=title or meta_type)
    return Attachment(kind, url=url, name=title)

"""WhatsApp Cloud entries of a Meta webhook body -> Inbound / MetaStatus (pure).

``entry[].changes[]`` with ``field == "messages"``: ``value.messages[]`` become Inbounds (the
sender's profile name from ``value.contacts``), ``value.statuses[]`` MetaStatus records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..base import Attachment, AttachmentKind, Inbound
from .delivery import MAX_NAME, MAX_PAYLOAD, MAX_TEXT, Collected, MetaStatus
from .json_reader import (
    event_count,
    fail,
    read_coordinate,
    read_digits,
    read_list,
    read_obj,
    read_optional,
    read_required,
    read_text,
    read_time,
    short,
)

__all__ = ["whatsapp_entry"]

#: WhatsApp media message types.
_WA_MEDIA: dict[str, AttachmentKind] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}


def whatsapp_entry(out: Collected, entry: dict[str, Any], path: str, ours: str) -> None:
    for j, change in enumerate(read_list(entry.get("changes"), f"{path}.changes")):
        at = f"{path}.changes[{j}]"
        change = read_obj(change, at)
        field = read_text(change.get("field"), f"{at}.field", 64)
        if field != "messages":
            out.ignored.append(f"field:{field}")
            continue
        value = read_obj(change.get("value"), f"{at}.value")
        metadata = read_obj(value.get("metadata"), f"{at}.value.metadata")
        account = read_digits(metadata.get("phone_number_id"), f"{at}.value.metadata.phone_number_id")
        if not ours or account != ours:
            out.ignored.extend(["not_ours"] * event_count(value, "messages", "statuses"))
            continue
        raw = {"object": "whatsapp_business_account", "account_id": account}
        names = _contact_names(value.get("contacts", []), f"{at}.value.contacts")
        for k, message in enumerate(read_list(value.get("messages", []), f"{at}.value.messages")):
            m = f"{at}.value.messages[{k}]"
            result = _wa_message(read_obj(message, m), m, raw, names)
            if isinstance(result, Inbound):
                out.inbounds.append(result)
            else:
                out.ignored.append(result)
        for k, status in enumerate(read_list(value.get("statuses", []), f"{at}.value.statuses")):
            s = f"{at}.value.statuses[{k}]"
            out.statuses.append(_wa_status(read_obj(status, s), s))
        out.ignored.extend(["error"] * len(read_list(value.get("errors", []), f"{at}.value.errors")))


def _contact_names(contacts: object, at: str) -> dict[str, str]:
    """``wa_id`` -> profile name, from ``value.contacts``."""
    names: dict[str, str] = {}
    for k, contact in enumerate(read_list(contacts, at)):
        c = read_obj(contact, f"{at}[{k}]")
        profile = c.get("profile")
        name = (
            read_optional(read_obj(profile, f"{at}[{k}].profile").get("name"), f"{at}[{k}].profile.name")
            if profile
            else None
        )
        if name and "wa_id" in c:
            names[read_digits(c["wa_id"], f"{at}[{k}].wa_id")] = name
    return names


def _wa_message(msg: dict[str, Any], at: str, raw: Mapping[str, Any], names: Mapping[str, str]) -> Inbound | str:
    """One ``value.messages[]`` item as an Inbound, or the kind it is ignored as."""
    wa_type = read_required(msg.get("type"), f"{at}.type", 64)
    if wa_type == "system":
        return "system"
    builder = _WA_TYPES.get(wa_type)
    if builder is None:
        return "unsupported"
    digits = read_digits(msg.get("from"), f"{at}.from")
    number = f"+{digits}"
    base: dict[str, Any] = dict(
        channel="whatsapp_cloud",
        sender_id=number,
        conversation_id=f"whatsapp_cloud:{number}",
        message_id=read_required(msg.get("id"), f"{at}.id"),
        timestamp=read_time(msg.get("timestamp"), f"{at}.timestamp", 1),
        sender_name=names.get(digits),
        raw=raw,
    )
    fields = builder(msg.get(wa_type), f"{at}.{wa_type}", wa_type)
    if fields is None:
        return "unsupported"
    if "reacted_to" in fields:
        base["raw"] = {**raw, "reacted_to": fields.pop("reacted_to")}
    return Inbound(**base, **fields)


_Fields = dict[str, Any] | None
_CAP = MAX_TEXT["whatsapp_cloud"]


def _wa_text(value: object, at: str, _: str) -> _Fields:
    body = read_obj(value, at)
    return {"text": read_text(body.get("body"), f"{at}.body", _CAP)}


def _wa_interactive(value: object, at: str, _: str) -> _Fields:
    body = read_obj(value, at)
    reply_type = body.get("type")
    if reply_type not in ("button_reply", "list_reply"):
        return None  # nfm_reply (Flows) and others
    reply = read_obj(body.get(reply_type), f"{at}.{reply_type}")
    return {
        "kind": "callback",
        "payload": read_required(reply.get("id"), f"{at}.{reply_type}.id", MAX_PAYLOAD),
        "text": read_text(reply.get("title"), f"{at}.{reply_type}.title", _CAP),
    }


def _wa_button(value: object, at: str, _: str) -> _Fields:
    body = read_obj(value, at)
    return {
        "kind": "callback",
        "payload": read_required(body.get("payload"), f"{at}.payload", MAX_PAYLOAD),
        "text": read_text(body.get("text"), f"{at}.text", _CAP),
    }


def _wa_media(value: object, at: str, wa_type: str) -> _Fields:
    body = read_obj(value, at)
    caption = read_optional(body.get("caption"), f"{at}.caption", _CAP)
    attachment = Attachment(
        _WA_MEDIA[wa_type],
        file_id=read_required(body.get("id"), f"{at}.id"),
        mime_type=read_optional(body.get("mime_type"), f"{at}.mime_type"),
        caption=caption,
        name=read_optional(body.get("filename"), f"{at}.filename") if wa_type == "document" else None,
    )
    return {"text": caption or "", "attachments": (attachment,)}


def _wa_location(value: object, at: str, _: str) -> _Fields:
    body = read_obj(value, at)
    attachment = Attachment(
        "location",
        latitude=read_coordinate(body.get("latitude"), f"{at}.latitude", 90),
        longitude=read_coordinate(body.get("longitude"), f"{at}.longitude", 180),
        name=read_optional(body.get("name"), f"{at}.name"),
        caption=read_optional(body.get("address"), f"{at}.address"),
    )
    return {"attachments": (attachment,)}


def _wa_contacts(value: object, at: str, _: str) -> _Fields:
    contacts = read_list(value, at)
    first = read_obj(contacts[0], f"{at}[0]") if contacts else {}
    name = read_obj(first.get("name", {}), f"{at}[0].name")
    formatted = read_optional(name.get("formatted_name"), f"{at}[0].name.formatted_name")
    phones = read_list(first.get("phones", []), f"{at}[0].phones")
    phone = (
        read_optional(read_obj(phones[0], f"{at}[0].phones[0]").get("phone"), f"{at}[0].phones[0].phone")
        if phones
        else None
    )
    return {"attachments": (Attachment("contact", name=formatted, caption=phone),)}


def _wa_reaction(value: object, at: str, _: str) -> _Fields:
    body = read_obj(value, at)
    return {
        "kind": "event",
        "event": "reaction",
        "text": read_text(body.get("emoji"), f"{at}.emoji", MAX_NAME),
        "reacted_to": read_required(body.get("message_id"), f"{at}.message_id"),
    }


_WA_TYPES: dict[str, Callable[[object, str, str], _Fields]] = {
    "text": _wa_text,
    "interactive": _wa_interactive,
    "button": _wa_button,
    "location": _wa_location,
    "contacts": _wa_contacts,
    "reaction": _wa_reaction,
    **{media: _wa_media for media in _WA_MEDIA},
}


def _wa_status(status: dict[str, Any], at: str) -> MetaStatus:
    errors = read_list(status.get("errors", []), f"{at}.errors")
    first = read_obj(errors[0], f"{at}.errors[0]") if errors else {}
    code = first.get("code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int | str)):
        raise fail(f"{at}.errors[0].code", f"{short(code)} is not a code")
    return MetaStatus(
        message_id=read_required(status.get("id"), f"{at}.id"),
        status=read_required(status.get("status"), f"{at}.status", 64),
        recipient="+" + read_digits(status.get("recipient_id"), f"{at}.recipient_id"),
        timestamp=read_time(status.get("timestamp"), f"{at}.timestamp", 1),
        error_code=read_optional(str(code), f"{at}.errors[0].code", 64) if code is not None else None,
        error_title=read_optional(first.get("title"), f"{at}.errors[0].title"),
    )

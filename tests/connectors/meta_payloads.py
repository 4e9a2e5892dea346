"""Meta webhook bodies as Graph delivers them, addressed to the fake Graph API's accounts."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakes.graph_api import DEFAULT_INSTAGRAM_ID, DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID

__all__ = ["messaging", "entry", "page_body", "instagram_body", "whatsapp_body", "wa_message", "wa_status"]

_seq = itertools.count(1)


def _ms() -> int:
    return int(time.time() * 1000)


def messaging(sender: str, account: str = DEFAULT_PAGE_ID, **event: Any) -> dict[str, Any]:
    """One Messenger/Instagram messaging event: ``message={...}``, ``postback={...}``..."""
    if "message" in event:
        event["message"] = {"mid": f"m_{next(_seq)}_{_ms()}", **event["message"]}
    return {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": _ms(), **event}


def entry(account: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"id": account, "time": _ms(), "messaging": list(events)}


def page_body(*events: dict[str, Any]) -> dict[str, Any]:
    """A Messenger delivery: one entry of the fake's page with ``events``."""
    return {"object": "page", "entry": [entry(DEFAULT_PAGE_ID, *events)]}


def instagram_body(*events: dict[str, Any]) -> dict[str, Any]:
    return {"object": "instagram", "entry": [entry(DEFAULT_INSTAGRAM_ID, *events)]}


def wa_message(wa_id: str, kind: str = "text", **content: Any) -> dict[str, Any]:
    """One WhatsApp Cloud message from ``wa_id`` (digits): ``text={"body": ...}``, ``interactive={...}``."""
    return {
        "from": wa_id,
        "id": f"wamid.{next(_seq)}x{_ms()}",
        "timestamp": str(int(time.time())),
        "type": kind,
        **content,
    }


def wa_status(wamid: str, status: str, wa_id: str, error_code: int | None = None) -> dict[str, Any]:
    got: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": wa_id}
    if error_code is not None:
        got["errors"] = [{"code": error_code, "title": "error"}]
    return got


def whatsapp_body(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    name: str = "Camille Martin",
) -> dict[str, Any]:
    """A WhatsApp Cloud delivery of ``messages`` and/or ``statuses`` to the fake's number."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100100", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": m["from"]} for m in messages]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }

"""Live events: what a turn, a mode change or an agent did, published on Redis pub/sub.

Every process publishes to one channel, ``<prefix>:live``; each web process runs one
subscriber that fans the events out to its open Server-Sent-Event streams (console
inbox, conversation views, web chat). Nothing live is kept in only one process.

Event shapes (JSON objects; ``type`` says which):
    message  conversation_id, channel, direction ("in"|"out"), message_id, text, nlu, mode,
             language, at, author (None: customer or bot; "staff:<id>" for an agent's reply)
    mode     conversation_id, channel, mode, old, actor, reason, assigned_to, waiting_since, at
    assign   conversation_id, assigned_to, actor, at
    note     conversation_id, note_id, staff_id, text, at
    erased   conversation_id, channel, actor ("staff:<id>"), at
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import redis

__all__ = ["live_channel", "encode", "publish", "message_event"]


def live_channel(prefix: str) -> str:
    """The one pub/sub channel of a deployment (``stores.key_prefix``)."""
    return f"{prefix}:live"


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


def message_event(
    *,
    conversation_id: str,
    channel: str,
    direction: str,
    author: str,
    message_id: str | None,
    text: str,
    mode: str | None,
    at: datetime,
    nlu: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event (a customer's, the bot's or an agent's words); ``extra`` adds fields
    such as ``language``, ``staff_id``, ``author_name``, ``delivery`` or ``left_message``."""
    return {
        "type": "message",
        "conversation_id": conversation_id,
        "channel": channel,
        "direction": direction,
        "author": author,
        "message_id": message_id,
        "text": text,
        "nlu": nlu,
        "mode": mode,
        "at": at.isoformat(),
        **extra,
    }


def publish(client: redis.Redis, prefix: str, event: dict[str, Any]) -> None:
    """Publish one event (best effort is not enough: a Redis error propagates)."""
    client.publish(live_channel(prefix), encode(event))

"""Find a customer's keys and stream entries in Redis (see the key families in :mod:`.registry`).

Every per-conversation key carries the conversation id in a hash tag, so one ``SCAN`` with
``MATCH *{<conversation>}*`` finds them all whatever module wrote them. A customer id
validated by :func:`bots.privacy.customer.customer` has no braces and is short, so the tag
is the conversation id itself for every module (``hash_tag`` hashes only ids with braces).
``SCAN`` walks the whole keyspace: fine for an erasure or an export (rare, by an operator),
never on a customer's turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import redis

from ..pipeline.keys import Keys
from .customer import Customer

__all__ = ["glob_escape", "tagged_keys", "dedupe_keys", "stream_entries", "queued_message_ids", "decode", "dump_key"]

_GLOB = re.compile(r"([*?\[\]\\])")


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis ``MATCH`` pattern."""
    return _GLOB.sub(r"\\\1", text)


def decode(value: Any) -> Any:
    """Redis replies (bytes) as text, recursively."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (list, tuple)):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {decode(k): decode(v) for k, v in value.items()}
    return value


def tagged_keys(client: redis.Redis, who: Customer) -> list[str]:
    """Every key whose hash tag is the customer's conversation."""
    pattern = f"*{{{glob_escape(who.conversation_id)}}}*"
    return sorted(decode(k) for k in client.scan_iter(match=pattern, count=1000))


def dedupe_keys(client: redis.Redis, keys: Keys, who: Customer, inbound_ids: tuple[str, ...]) -> list[str]:
    """Dedupe keys of the customer's inbound messages (web chat message ids start with the visitor id)."""
    shard = keys.shard_of(who.conversation_id)
    found = {keys.dedupe(shard, who.channel, mid) for mid in inbound_ids}
    if who.channel == "webchat":
        pattern = glob_escape(keys.dedupe(shard, who.channel, who.id)) + ":*"
        found.update(decode(k) for k in client.scan_iter(match=pattern, count=1000))
    pipe = client.pipeline(transaction=False)
    ordered = sorted(found)
    for key in ordered:
        pipe.exists(key)
    return [k for k, there in zip(ordered, pipe.execute(), strict=True) if there]


def stream_entries(
    client: redis.Redis, stream: str, field: str, value: str, page: int = 1000
) -> Iterator[tuple[str, dict[str, str]]]:
    """``(id, fields)`` of the entries of ``stream`` whose ``field`` equals ``value`` (read in pages)."""
    start = "-"
    while True:
        batch = client.xrange(stream, min=start, max="+", count=page) or []
        for entry_id, raw in batch:
            fields = decode(raw or {})
            if fields.get(field) == value:
                yield decode(entry_id), fields
        if len(batch) < page:
            return
        start = "(" + decode(batch[-1][0])


def queued_message_ids(entries: list[tuple[str, dict[str, str]]]) -> tuple[str, ...]:
    """Channel message ids of inbound stream entries (field ``m``: the Inbound as JSON)."""
    found: list[str] = []
    for _, fields in entries:
        try:
            message_id = json.loads(fields.get("m", "{}")).get("message_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(message_id, str) and message_id:
            found.append(message_id)
    return tuple(found)


def dump_key(client: redis.Redis, key: str) -> Any:
    """A key's value as JSON-ready data, whatever its type."""
    kind = decode(client.type(key))
    if kind == "string":
        return decode(client.get(key))
    if kind == "hash":
        return decode(client.hgetall(key))
    if kind == "list":
        return decode(client.lrange(key, 0, -1))
    if kind == "set":
        return sorted(decode(client.smembers(key)))
    if kind == "zset":
        return [[m, s] for m, s in decode(client.zrange(key, 0, -1, withscores=True))]
    if kind == "stream":
        return [{"id": i, "fields": f} for i, f in decode(client.xrange(key, "-", "+"))]
    return None

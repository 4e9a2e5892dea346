"""Everything stored about a customer, as one JSON document (a subject-access request).

The document walks the same registry as erasure (:data:`~bots.privacy.registry.SQL_STORES`
and the Redis key families), so what erasure removes is what the export shows:

.. code-block:: text

    {"format": "brandbot-export/1", "generated_at": ..., "profile": {"channel", "id",
     "conversation_id", "conversations": [...]}, "consents": {"current": {...}, "history":
     [... with the exact wording ...]}, "messages": [...], "deliveries": [...],
     "delivery_parts": [...], "notes": [...], "audit_log": [...], "signals": [...],
     "redis": {"<key>": <value>, "inbound stream entries": [...], "dead letters": [...]}}

Signals are listed although they are keyed by a pseudonym: they are about this customer.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import redis
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailable
from ..pipeline.keys import Keys
from .customer import Customer
from .pseudonyms import Pseudonyms
from .redis_traces import dedupe_keys, dump_key, queued_message_ids, stream_entries, tagged_keys
from .registry import SQL_STORES, trace_of

__all__ = ["FORMAT", "export", "to_json"]

FORMAT = "brandbot-export/1"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def export(
    who: Customer,
    *,
    engine: Engine,
    client: redis.Redis,
    keys: Keys,
    pseudonyms: Pseudonyms,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> dict[str, Any]:
    """The export document of ``who`` (plain JSON types; :func:`to_json` prints it).

    Raises:
        StoreUnavailable: SQL or Redis does not answer.
    """
    try:
        return _document(who, engine, client, keys, pseudonyms, clock())
    except (SQLAlchemyError, redis.RedisError) as exc:
        raise StoreUnavailable(f"cannot export a {who.channel} customer's data: {exc}") from exc


def _document(
    who: Customer, engine: Engine, client: redis.Redis, keys: Keys, pseudonyms: Pseudonyms, now: dt.datetime
) -> dict[str, Any]:
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        trace = trace_of(conn, who, pseudonyms.subject(who))
        for store in SQL_STORES:
            order = list(store.table.primary_key.columns)
            rows = conn.execute(select(store.table).where(store.where(trace)).order_by(*order)).mappings().all()
            tables[store.table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    conv = who.conversation_id
    stream = keys.stream(keys.shard_of(conv))
    queued = list(stream_entries(client, stream, "c", conv))
    live: dict[str, Any] = {key: dump_key(client, key) for key in tagged_keys(client, who)}
    for key in dedupe_keys(client, keys, who, trace.inbound_ids + queued_message_ids(queued)):
        live[key] = dump_key(client, key)
    live["inbound stream entries"] = [{"id": i, "fields": f} for i, f in queued]
    live["dead letters"] = [
        {"id": i, "fields": f} for i, f in stream_entries(client, keys.dlq, "conversation_id", conv)
    ]
    return {
        "format": FORMAT,
        "generated_at": _plain(now),
        "profile": {
            "channel": who.channel,
            "id": who.id,
            "conversation_id": conv,
            "conversations": tables.pop("conversations"),
        },
        "consents": {"current": tables.pop("consent_state"), "history": tables.pop("consent_events")},
        "signals": tables.pop("feedback_signals"),
        **tables,
        "redis": live,
    }


def to_json(document: dict[str, Any]) -> str:
    """The document as indented UTF-8 JSON text."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False, default=str)

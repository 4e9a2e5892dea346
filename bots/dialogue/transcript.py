"""The durable transcript: inbound and outbound rows in ``messages``, one row per conversation.

Writes are idempotent (the unique constraint on conversation, direction and
message id; conflicts are ignored), so a redone turn never duplicates a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Inbound, Outbound

from ..errors import StoreUnavailable
from ..stores.models import conversations, messages
from ..stores.sql import conflict_insert

__all__ = ["record_turn"]


def _insert(engine: Engine, table: Any) -> Any:
    stmt = conflict_insert(engine.dialect.name, table)
    if stmt is None:
        raise StoreUnavailable(f"SQL dialect {engine.dialect.name!r} is not supported (use SQLite or PostgreSQL)")
    return stmt


def record_turn(
    engine: Engine,
    inbound: Inbound,
    outbounds: list[Outbound],
    nlu: dict[str, Any] | None,
    language: str | None,
    mode: str,
    now: datetime,
) -> None:
    """Append the turn's rows and upsert the conversation (one transaction).

    Raises:
        StoreUnavailable: the database refused the write.
    """
    rows = [
        {
            "conversation_id": inbound.conversation_id,
            "direction": "in",
            "channel": inbound.channel,
            "message_id": inbound.message_id,
            "text": inbound.text or "",
            "data": {"nlu": nlu, "kind": inbound.kind, "payload": inbound.payload,
                     "attachments": [a.to_dict() for a in inbound.attachments]},
            "created_at": inbound.timestamp,
        }
    ]
    for out in outbounds:
        rows.append(
            {
                "conversation_id": inbound.conversation_id,
                "direction": "out",
                "channel": out.channel,
                "message_id": out.idempotency_key or "",
                "text": out.text,
                "data": {"quick_replies": [[q.title, q.payload] for q in out.quick_replies], "kind": out.kind},
                "created_at": now,
            }
        )
    ins_msg = _insert(engine, messages).on_conflict_do_nothing()
    conv = _insert(engine, conversations).values(
        id=inbound.conversation_id,
        channel=inbound.channel,
        customer_id=inbound.sender_id,
        language=language,
        mode=mode,
        created_at=now,
        updated_at=now,
    )
    conv = conv.on_conflict_do_update(
        index_elements=[conversations.c.id],
        set_={"language": language, "mode": mode, "updated_at": now},
    )
    try:
        with engine.begin() as conn:
            conn.execute(ins_msg, rows)
            conn.execute(conv)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(
            f"cannot write the transcript of {inbound.conversation_id!r} to {engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc

"""The durable transcript: inbound and outbound rows in ``messages``, one row per conversation.

Writes are idempotent (the unique constraint on conversation, direction and
message id; conflicts are ignored), so a redone turn never duplicates a row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from connectors.base import Inbound, Outbound

from ..errors import StoreUnavailable
from ..stores.models import conversations, messages
from ..stores.sql import conflict_insert

__all__ = ["record_turn", "PREVIEW_CHARS"]

#: ``conversations.last_preview`` keeps the start of the customer's last words (what staff read
#: first in the inbox); a turn with no text (a sticker, a location) previews the bot's answer.
PREVIEW_CHARS = 200


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
    *,
    extra: Callable[[Connection], None] | None = None,
    inbound_data: dict[str, Any] | None = None,
    record_inbound: bool = True,
) -> None:
    """Append the turn's rows and upsert the conversation (one transaction).

    The conversation row gets ``last_message_at`` and ``last_preview`` (the first
    ``PREVIEW_CHARS`` characters of the turn's last message, the bot's reply if any).

    Args:
        extra: more work in the same transaction, after the rows (a mode change's
            :func:`bots.handoff.modes.record`); its failure rolls the turn back.
        inbound_data: more keys for the inbound row's ``data`` (``{"left_message": True}``).
        record_inbound: False for an event the customer did not send (a notification being
            sent): only the outbound rows are written.

    Raises:
        StoreUnavailable: the database is unreachable (other SQL errors propagate unchanged).
    """
    rows: list[dict[str, Any]] = [
        {
            "conversation_id": inbound.conversation_id,
            "direction": "in",
            "channel": inbound.channel,
            "message_id": inbound.message_id,
            "text": inbound.text or "",
            "data": {
                "nlu": nlu,
                "kind": inbound.kind,
                "payload": inbound.payload,
                "attachments": [a.to_dict() for a in inbound.attachments],
                **(inbound_data or {}),
            },
            "created_at": inbound.timestamp,
        }
    ]
    if not record_inbound:
        rows.clear()
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
    said = inbound.text if record_inbound else ""
    preview = (said or (outbounds[-1].text if outbounds else inbound.payload or ""))[:PREVIEW_CHARS]
    latest = {"language": language, "mode": mode, "updated_at": now, "last_message_at": now, "last_preview": preview}
    conv = _insert(engine, conversations).values(
        id=inbound.conversation_id,
        channel=inbound.channel,
        customer_id=inbound.sender_id,
        created_at=now,
        **latest,
    )
    conv = conv.on_conflict_do_update(index_elements=[conversations.c.id], set_=latest)
    try:
        with engine.begin() as conn:
            if rows:
                conn.execute(ins_msg, rows)
            conn.execute(conv)
            if extra is not None:
                extra(conn)
    except (OperationalError, InterfaceError, DisconnectionError) as exc:
        # the database is unreachable or refused the connection: the turn is redone later. Any
        # other error (a NUL byte PostgreSQL refuses, a constraint) belongs to this message and
        # propagates as it is, so the pipeline retries it a few times and then dead-letters it.
        raise StoreUnavailable(
            f"cannot write the transcript of {inbound.conversation_id!r} "
            f"to {engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc

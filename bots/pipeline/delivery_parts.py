"""Delivery parts: the status of each channel message of a delivery, rolled up to the delivery.

A long SMS/WhatsApp reply goes out as several messages (``"SM1,SM2"``), each with its
own status callbacks. When a send succeeds, :func:`record_parts` writes one
``delivery_parts`` row per provider id (status ``sent``); each status callback goes
through :func:`apply_status`, which moves the part forward and rolls the delivery up:

- a part's status only moves forward (queued < sending < sent < delivered < read):
  Twilio may post callbacks out of order, and a late "sent" must not undo "delivered";
  a failure (failed, undelivered, canceled) is final and keeps its error code;
- the delivery's status is the failing part's (lowest index) when one failed, else the
  least advanced part's: ``delivered`` only when every part is delivered (or read).

A callback that arrives before the send is recorded (Twilio can call back while the
next parts are still being sent) is kept as a part without a delivery; the send's
record adopts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, case, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from ..stores.models import deliveries, delivery_parts
from ..stores.sql import conflict_insert

__all__ = ["FAILED", "status_rank", "roll_up_statuses", "record_parts", "apply_status", "fit_provider_ids"]

#: final failures: they win over any progress and are never overwritten.
FAILED = ("failed", "undelivered", "canceled")
#: progress of a message that has not failed (unknown statuses rank lowest).
_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "partially_delivered": 5,
    "delivered": 6,
    "read": 7,
}
SENT = "sent"


def status_rank(status: str) -> int:
    """How far a status is along (0 for unknown ones; failures are handled apart)."""
    return _RANK.get(status, 0)


def roll_up_statuses(parts: Sequence[tuple[int, str, str | None]]) -> tuple[str, str | None]:
    """``(part_index, status, error_code)`` of every part -> the delivery's ``(status, error_code)``.

    Raises:
        ValueError: no parts.
    """
    if not parts:
        raise ValueError("a delivery with no parts has no status to roll up")
    failed = sorted(p for p in parts if p[1] in FAILED)
    if failed:
        return failed[0][1], failed[0][2]
    least = min(parts, key=lambda p: (status_rank(p[1]), p[0]))
    return least[1], None


def fit_provider_ids(ids: Sequence[str], width: int = 200) -> str:
    """The ids joined by commas, fitted into ``deliveries.provider_id`` (``",+N"`` counts the ids
    left out; every id is in ``delivery_parts``)."""
    joined = ",".join(ids)
    if len(joined) <= width:
        return joined
    kept: list[str] = []
    for i, pid in enumerate(ids):
        suffix = f",+{len(ids) - i - 1}" if i < len(ids) - 1 else ""
        if len(",".join([*kept, pid])) + len(suffix) > width:
            break
        kept.append(pid)
    return ",".join(kept) + f",+{len(ids) - len(kept)}"


def _now() -> datetime:
    return datetime.now(UTC)


def _advance(conn: Connection, provider_id: str, status: str, error_code: str | None, now: datetime) -> int:
    """Move one part to ``status`` if that is progress (or a failure); returns rows changed."""
    current_rank = case(*((delivery_parts.c.status == s, literal(r)) for s, r in _RANK.items()), else_=literal(0))
    cond = [delivery_parts.c.provider_id == provider_id, delivery_parts.c.status.not_in(FAILED)]
    values: dict[str, object] = {"status": status[:32], "updated_at": now}
    if status in FAILED:
        values["error_code"] = error_code[:32] if error_code else None
    else:
        cond.append(current_rank < status_rank(status))
    return conn.execute(update(delivery_parts).where(*cond).values(**values)).rowcount


def _insert_if_absent(conn: Connection, row: dict[str, object]) -> bool:
    """Insert a part unless its provider id is known; True when inserted."""
    stmt = conflict_insert(conn.dialect.name, delivery_parts)
    if stmt is not None:
        stmt = stmt.values(**row).on_conflict_do_nothing(index_elements=[delivery_parts.c.provider_id])
        return conn.execute(stmt).rowcount == 1
    try:
        with conn.begin_nested():
            conn.execute(insert(delivery_parts).values(**row))
        return True
    except IntegrityError:
        return False


def _roll_up(conn: Connection, idempotency_key: str, now: datetime) -> str:
    parts = conn.execute(
        select(delivery_parts.c.part_index, delivery_parts.c.status, delivery_parts.c.error_code).where(
            delivery_parts.c.idempotency_key == idempotency_key
        )
    ).all()
    status, code = roll_up_statuses([tuple(p) for p in parts])
    conn.execute(
        update(deliveries)
        .where(deliveries.c.idempotency_key == idempotency_key)
        .values(status=status, error_code=code, updated_at=now)
    )
    return status


def record_parts(
    conn: Connection, idempotency_key: str, provider_ids: Iterable[str], now: datetime | None = None
) -> None:
    """Write the parts of a delivery just sent (inside the caller's transaction, after its row).

    Idempotent (a redone record changes nothing); adopts parts that status callbacks
    created before the send was recorded, and then rolls the delivery up.
    """
    now = now or _now()
    adopted = False
    for index, pid in enumerate(p for p in provider_ids if p):
        row = {
            "idempotency_key": idempotency_key,
            "part_index": index,
            "provider_id": pid,
            "status": SENT,
            "updated_at": now,
        }
        if _insert_if_absent(conn, row):
            continue
        adopted |= bool(
            conn.execute(
                update(delivery_parts)
                .where(delivery_parts.c.provider_id == pid, delivery_parts.c.idempotency_key.is_(None))
                .values(idempotency_key=idempotency_key, part_index=index)
            ).rowcount
        )
        _advance(conn, pid, SENT, None, now)
    if adopted:
        _roll_up(conn, idempotency_key, now)


def apply_status(
    engine: Engine, provider_id: str, status: str, error_code: str | None = None, now: datetime | None = None
) -> str | None:
    """Record a status callback for one channel message and roll its delivery up.

    Returns:
        The delivery's idempotency key, or None when no recorded send has this message
        (yet): the part is kept for the send's record to adopt.

    Raises:
        SQLAlchemyError: the database is unreachable (answer 503: the channel retries).
    """
    now = now or _now()
    status = status[:32]
    with engine.begin() as conn:
        _advance(conn, provider_id, status, error_code, now)
        key = conn.execute(
            select(delivery_parts.c.idempotency_key).where(delivery_parts.c.provider_id == provider_id)
        ).first()
        if key is None:
            # a delivery recorded before parts existed (single message, provider_id == MessageSid)
            legacy = conn.execute(
                update(deliveries)
                .where(deliveries.c.provider_id == provider_id)
                .values(status=status, error_code=(error_code[:32] if error_code else None), updated_at=now)
            ).rowcount
            if legacy:
                return conn.execute(
                    select(deliveries.c.idempotency_key).where(deliveries.c.provider_id == provider_id)
                ).scalar()
            _insert_if_absent(
                conn,
                {
                    "idempotency_key": None,
                    "part_index": 0,
                    "provider_id": provider_id,
                    "status": status,
                    "error_code": error_code[:32] if error_code and status in FAILED else None,
                    "updated_at": now,
                },
            )
            return None
        if key[0] is None:
            return None
        _roll_up(conn, key[0], now)
        return key[0]

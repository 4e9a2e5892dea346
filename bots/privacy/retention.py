"""Purge what is older than its retention period (``privacy.retention``), or count it (dry run).

Periods, in days (0: kept for ever):

- ``messages_days``: transcript rows (``messages.created_at``); a conversation whose last
  activity is older and that has no newer message goes too, with its staff notes (its
  ``last_preview`` is transcript text);
- ``deliveries_days``: ``deliveries`` (``created_at``) and their ``delivery_parts``, plus
  status callbacks never matched to a send (``updated_at``);
- ``signals_days``: ``feedback_signals`` (``at``). The counts-only table is kept.

A row is past its period when its time is strictly before ``now - days``. Deletes run in
batches of primary keys, each in its own transaction, so a long purge never holds a big
lock and can be stopped and run again (safe from cron).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, Table, and_, delete, exists, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailable
from ..settings.privacy import RetentionSettings
from ..stores.models import conversations, deliveries, delivery_parts, messages, notes
from .tables import feedback_signals

__all__ = ["RetentionReport", "Step", "plan", "run_retention"]


@dataclass(frozen=True)
class Step:
    """One table's purge: the rows of ``table`` matching ``where``."""

    name: str
    table: Table
    where: ColumnElement[bool]


@dataclass(frozen=True)
class RetentionReport:
    """Rows removed (or, in a dry run, that would be) per table, and each kind's cutoff."""

    dry_run: bool
    cutoffs: dict[str, datetime | None]
    removed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def _cutoffs(retention: RetentionSettings, now: datetime) -> dict[str, datetime | None]:
    days = {
        "messages": retention.messages_days,
        "deliveries": retention.deliveries_days,
        "signals": retention.signals_days,
    }
    return {kind: (now - timedelta(days=d) if d else None) for kind, d in days.items()}


def plan(retention: RetentionSettings, now: datetime) -> tuple[dict[str, datetime | None], list[Step]]:
    """The cutoffs and the purge steps, children before parents (pure: builds statements only)."""
    cut = _cutoffs(retention, now)
    steps: list[Step] = []
    if (c := cut["messages"]) is not None:
        newer = exists().where(messages.c.conversation_id == conversations.c.id, messages.c.created_at >= c)
        idle = and_(func.coalesce(conversations.c.last_message_at, conversations.c.updated_at) < c, ~newer)
        steps += [
            Step("messages", messages, messages.c.created_at < c),
            Step("notes", notes, notes.c.conversation_id.in_(select(conversations.c.id).where(idle))),
            Step("conversations", conversations, idle),
        ]
    if (c := cut["deliveries"]) is not None:
        old = select(deliveries.c.idempotency_key).where(deliveries.c.created_at < c)
        steps += [
            Step(
                "delivery_parts",
                delivery_parts,
                (delivery_parts.c.idempotency_key.in_(old))
                | (delivery_parts.c.idempotency_key.is_(None) & (delivery_parts.c.updated_at < c)),
            ),
            Step("deliveries", deliveries, deliveries.c.created_at < c),
        ]
    if (c := cut["signals"]) is not None:
        steps.append(Step("feedback_signals", feedback_signals, feedback_signals.c.at < c))
    return cut, steps


def run_retention(
    engine: Engine,
    retention: RetentionSettings,
    *,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = 2000,
    progress: Callable[[str, int], None] | None = None,
) -> RetentionReport:
    """Purge (or count, with ``dry_run``) what is past its period.

    Args:
        engine: the SQL engine.
        retention: the periods (``settings.privacy.retention``).
        now: the current time, timezone-aware.
        dry_run: count only; nothing is deleted.
        batch_size: rows deleted per transaction.
        progress: called with (table, rows just removed) after each batch.

    Returns:
        The rows removed (or that would be) per table.

    Raises:
        StoreUnavailable: SQL does not answer (batches already committed stay purged).
    """
    cutoffs, steps = plan(retention, now)
    removed: dict[str, int] = {}
    try:
        for step in steps:
            removed[step.name] = _count(engine, step) if dry_run else _purge(engine, step, batch_size, progress)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"retention stopped at table {step.name!r}: {exc}; run it again") from exc
    return RetentionReport(dry_run, cutoffs, removed)


def _count(engine: Engine, step: Step) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(step.table).where(step.where)).scalar_one())


def _purge(engine: Engine, step: Step, batch_size: int, progress: Callable[[str, int], None] | None) -> int:
    (pk,) = step.table.primary_key.columns
    total = 0
    while True:
        with engine.begin() as conn:
            ids = list(conn.execute(select(pk).where(step.where).limit(batch_size)).scalars())
            if not ids:
                return total
            conn.execute(delete(step.table).where(pk.in_(ids)))
        total += len(ids)
        if progress is not None:
            progress(step.name, len(ids))
        if len(ids) < batch_size:
            return total

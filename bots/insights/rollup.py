"""``feedback_daily``: opted-in feedback signals counted per UTC day and dimension (migration 0007_insights).

Why: the insights summary reads counts (sentiment by label, by day and by intent, CSAT and NPS
distributions) from this table instead of scanning ``feedback_signals`` (a 30-day report over a
million signals in tens of milliseconds, benchmarks/insights_report.py).

- Written by :class:`bots.privacy.signals.Signals` in the same transaction as the signal row
  (:func:`count_signal`), so the two never disagree on a new signal.
- No text and no customer key: like ``feedback_counts``, a row is an anonymous count. An
  erasure or the retention purge removes signal rows (the person's data) and leaves these counts.
- :func:`rebuild` recomputes it from ``feedback_signals`` (one ``INSERT ... SELECT ... GROUP BY``):
  the migration's backfill, and for data loaded by other means (tests, imports, benchmarks).

Absent dimensions are stored as ``""`` (language, intent, label) and ``-1`` (score): they are
part of the primary key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Index,
    Integer,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from ..errors import StoreUnavailable
from ..privacy.tables import feedback_signals
from ..stores.models import audit_log, conversations, metadata
from ..stores.sql import conflict_insert

__all__ = ["feedback_daily", "label_of", "label_sql", "count_signal", "rebuild", "NO_SCORE"]

#: the ``score`` of a signal without one (message, comment).
NO_SCORE = -1

_LABELS = ("positive", "neutral", "negative")

feedback_daily = Table(
    "feedback_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("intent", String(100), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("label", String(16), primary_key=True),
    Column("score", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)


def label_of(kind: str, label: str | None, sentiment: float | None) -> str:
    """The sentiment label counted for a signal: its label, else the sign of its score; "" for a rating."""
    if kind not in ("message", "comment"):
        return ""
    if label in _LABELS:
        return label
    if sentiment is not None and sentiment > 0:
        return "positive"
    if sentiment is not None and sentiment < 0:
        return "negative"
    return "neutral"


def label_sql() -> ColumnElement[Any]:
    """:func:`label_of` in SQL, over ``feedback_signals``."""
    s = feedback_signals.c
    return case(
        (s.kind.not_in(("message", "comment")), literal("")),
        (s.sentiment_label.in_(_LABELS), s.sentiment_label),
        (s.sentiment > 0, literal("positive")),
        (s.sentiment < 0, literal("negative")),
        else_=literal("neutral"),
    )


def _day_sql(conn: Connection) -> ColumnElement[Any]:
    at = feedback_signals.c.at
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", at), Date)
    return func.substr(at, 1, 10)  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC


def count_signal(conn: Connection, at: datetime, channel: str, kind: str, values: dict[str, Any]) -> None:
    """``feedback_daily`` += 1 for one signal row just written (inside the caller's transaction)."""
    upsert = conflict_insert(conn.dialect.name, feedback_daily)
    if upsert is None:
        raise StoreUnavailable(f"SQL dialect {conn.dialect.name!r} is not supported (use SQLite or PostgreSQL)")
    score = values.get("score")
    stmt = upsert.values(
        day=at.astimezone(UTC).date(),
        channel=channel,
        language=values.get("language") or "",
        intent=values.get("intent") or "",
        kind=kind,
        label=label_of(kind, values.get("sentiment_label"), values.get("sentiment")),
        score=NO_SCORE if score is None else int(score),
        count=1,
    )
    keys = ["day", "channel", "language", "intent", "kind", "label", "score"]
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={"count": feedback_daily.c.count + 1}))


def rebuild(conn: Connection) -> int:
    """Recompute ``feedback_daily`` from ``feedback_signals`` (inside the caller's transaction); returns its rows."""
    s = feedback_signals.c
    day, label = _day_sql(conn), label_sql()
    language, intent = func.coalesce(s.language, ""), func.coalesce(s.intent, "")
    score = func.coalesce(s.score, NO_SCORE)
    conn.execute(delete(feedback_daily))
    grouped = select(day, s.channel, language, intent, s.kind, label, score, func.count()).group_by(
        day, s.channel, language, intent, s.kind, label, score
    )
    cols = ["day", "channel", "language", "intent", "kind", "label", "score", "count"]
    conn.execute(insert(feedback_daily).from_select(cols, grouped))
    return int(conn.execute(select(func.count()).select_from(feedback_daily)).scalar_one())


# The insights' reads by period on existing tables (created by the same migration): fallbacks
# by intent and time, conversations by creation time, "was it handed over" per conversation.
Index("ix_feedback_signals_intent_at", feedback_signals.c.intent, feedback_signals.c.at)
Index("ix_conversations_created_at", conversations.c.created_at)
Index("ix_audit_log_subject_action", audit_log.c.subject, audit_log.c.action)

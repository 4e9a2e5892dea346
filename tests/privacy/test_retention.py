"""Retention deletes exactly what is past its period (strictly older), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bots.privacy.retention import run_retention
from bots.privacy.tables import feedback_counts, feedback_signals
from bots.settings.privacy import RetentionSettings
from bots.stores.models import conversations, deliveries, delivery_parts, messages, notes

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PERIODS = RetentionSettings(messages_days=30, deliveries_days=7, signals_days=90)
TICK = timedelta(seconds=1)


def populate(engine) -> None:
    """For each kind: one row a second past its period, one exactly at it, one recent."""
    msg_cut, dl_cut, sig_cut = (NOW - timedelta(days=d) for d in (30, 7, 90))
    with engine.begin() as conn:
        conn.execute(
            insert(conversations),
            [
                # idle past the period, no newer message: goes with its note
                dict(
                    id="sms:+331",
                    channel="sms",
                    customer_id="+331",
                    mode="bot",
                    created_at=msg_cut - 5 * TICK,
                    updated_at=msg_cut - TICK,
                    last_message_at=msg_cut - TICK,
                    last_preview="old words",
                ),
                # active: stays
                dict(
                    id="sms:+332",
                    channel="sms",
                    customer_id="+332",
                    mode="bot",
                    created_at=msg_cut - 5 * TICK,
                    updated_at=NOW,
                    last_message_at=NOW,
                    last_preview="new words",
                ),
            ],
        )
        conn.execute(
            insert(messages),
            [
                dict(
                    conversation_id="sms:+331",
                    direction="in",
                    channel="sms",
                    message_id="a",
                    text="old",
                    created_at=msg_cut - TICK,
                ),
                dict(
                    conversation_id="sms:+332",
                    direction="in",
                    channel="sms",
                    message_id="b",
                    text="edge",
                    created_at=msg_cut,
                ),
                dict(
                    conversation_id="sms:+332",
                    direction="in",
                    channel="sms",
                    message_id="c",
                    text="new",
                    created_at=NOW,
                ),
            ],
        )
        conn.execute(
            insert(notes),
            [
                dict(conversation_id="sms:+331", staff_id=1, text="old note", created_at=msg_cut - TICK),
                dict(
                    conversation_id="sms:+332",
                    staff_id=1,
                    text="old note, live conversation",
                    created_at=msg_cut - TICK,
                ),
            ],
        )
        rows = [("old", dl_cut - TICK), ("edge", dl_cut), ("new", NOW)]
        conn.execute(
            insert(deliveries),
            [
                dict(
                    idempotency_key=k,
                    channel="sms",
                    recipient="+332",
                    conversation_id="sms:+332",
                    provider_id=f"SM{k}",
                    status="delivered",
                    created_at=t,
                    updated_at=t,
                )
                for k, t in rows
            ],
        )
        conn.execute(
            insert(delivery_parts),
            [
                *(
                    dict(idempotency_key=k, part_index=0, provider_id=f"SM{k}", status="delivered", updated_at=NOW)
                    for k, _ in rows
                ),
                dict(
                    idempotency_key=None,
                    part_index=0,
                    provider_id="SMorphan-old",
                    status="delivered",
                    updated_at=dl_cut - TICK,
                ),
                dict(
                    idempotency_key=None, part_index=0, provider_id="SMorphan-new", status="delivered", updated_at=NOW
                ),
            ],
        )
        conn.execute(
            insert(feedback_signals),
            [dict(subject="s" * 64, channel="sms", kind="csat", score=4, at=t) for t in (sig_cut - TICK, sig_cut, NOW)],
        )
        conn.execute(
            insert(feedback_counts).values(
                day=(sig_cut - timedelta(days=10)).date(), channel="sms", kind="csat", count=3
            )
        )


def snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            "conversations": sorted(conn.execute(select(conversations.c.id)).scalars()),
            "messages": sorted(conn.execute(select(messages.c.message_id)).scalars()),
            "notes": sorted(conn.execute(select(notes.c.text)).scalars()),
            "deliveries": sorted(conn.execute(select(deliveries.c.idempotency_key)).scalars()),
            "delivery_parts": sorted(conn.execute(select(delivery_parts.c.provider_id)).scalars()),
            "feedback_signals": sorted(conn.execute(select(feedback_signals.c.at)).scalars()),
            "feedback_counts": list(conn.execute(select(feedback_counts.c.count)).scalars()),
        }


def test_retention_removes_exactly_what_is_past_its_period(engine) -> None:
    populate(engine)
    before = snapshot(engine)
    dry = run_retention(engine, PERIODS, now=NOW, dry_run=True)
    assert snapshot(engine) == before, "a dry run removes nothing"
    expected = {
        "messages": 1,
        "notes": 1,
        "conversations": 1,
        "delivery_parts": 2,
        "deliveries": 1,
        "feedback_signals": 1,
    }
    assert dry.removed == expected and dry.dry_run
    seen: list[tuple[str, int]] = []
    report = run_retention(engine, PERIODS, now=NOW, batch_size=1, progress=lambda t, n: seen.append((t, n)))
    assert report.removed == expected and not report.dry_run
    assert sum(n for _, n in seen) == sum(expected.values())
    after = snapshot(engine)
    assert after["conversations"] == ["sms:+332"]
    assert after["messages"] == ["b", "c"], "a row exactly at the cutoff is not past it"
    assert after["notes"] == ["old note, live conversation"]
    assert after["deliveries"] == ["edge", "new"]
    assert after["delivery_parts"] == ["SMedge", "SMnew", "SMorphan-new"]
    assert len(after["feedback_signals"]) == 2 and after["feedback_counts"] == [3], "counts hold nobody's data"
    assert run_retention(engine, PERIODS, now=NOW).total == 0, "running it again removes nothing more"


def test_a_period_of_zero_keeps_for_ever(sql_engine) -> None:
    populate(sql_engine)
    report = run_retention(sql_engine, RetentionSettings(messages_days=0, deliveries_days=0, signals_days=0), now=NOW)
    assert report.removed == {} and report.cutoffs == {"messages": None, "deliveries": None, "signals": None}

"""``feedback_daily``: kept in step by every signal written, equal to a rebuild, made by 0007_insights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from bots.insights.rollup import feedback_daily, rebuild
from bots.privacy import ConsentBook, Pseudonyms, Signals, Wording, customer
from bots.privacy.tables import feedback_signals
from bots.stores.models import metadata
from bots.stores.sql import _alembic_config, current_revision, head_revision, upgrade

pytestmark = pytest.mark.integration

SECRET = "test-analytics-secret-0123456789"
WORDING = Wording("feedback-1", "May we learn from this conversation (anonymised)?", "en")


def daily(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(feedback_daily).order_by(*feedback_daily.primary_key.columns)).all()
    return [(str(r.day), r.channel, r.language, r.intent, r.kind, r.label, r.score, r.count) for r in rows]


def test_every_signal_counts_once_and_matches_a_rebuild(any_engine: Engine) -> None:
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    clock = {"now": now}
    signals = Signals(any_engine, Pseudonyms(SECRET), lambda: clock["now"])
    ana, bob = customer("sms", "+33612345678"), customer("telegram", "42")
    ConsentBook(any_engine).grant(ana, "feedback_analytics", how="button", wording=WORDING)
    signals.message(ana, intent="refund", sentiment=-0.8, sentiment_label="negative", language="fr", text="non")
    signals.message(ana, intent="refund", sentiment=-0.3, sentiment_label=None, language="fr", text="toujours pas")
    signals.message(ana, intent=None, sentiment=None, language=None)
    signals.message(bob, intent="refund", sentiment=-0.9, sentiment_label="negative")  # no consent: not counted here
    signals.csat(ana, 4)
    signals.nps(ana, 9)
    clock["now"] = now + timedelta(hours=1)  # the next UTC day
    signals.message(ana, intent="refund", sentiment=0.5, sentiment_label="positive", language="fr", text="merci")
    assert daily(any_engine) == [
        ("2026-11-30", "sms", "", "", "csat", "", 4, 1),
        ("2026-11-30", "sms", "", "", "message", "neutral", -1, 1),
        ("2026-11-30", "sms", "", "", "nps", "", 9, 1),
        ("2026-11-30", "sms", "fr", "refund", "message", "negative", -1, 2),
        ("2026-12-01", "sms", "fr", "refund", "message", "positive", -1, 1),
    ]
    kept = daily(any_engine)
    with any_engine.begin() as conn:
        assert rebuild(conn) == 5
    assert daily(any_engine) == kept


def test_the_migration_matches_the_table_backfills_and_downgrades(any_engine: Engine) -> None:
    with any_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if "feedback_daily" in repr(d) or "ix_" in repr(d)] == []
    config = _alembic_config(any_engine)
    command.downgrade(config, "0006_links")
    row = dict(subject="s", channel="webchat", kind="message", at=datetime(2026, 11, 3, 10, tzinfo=UTC))
    with any_engine.begin() as conn:
        conn.execute(
            insert(feedback_signals),
            [dict(row, sentiment=-0.2, sentiment_label=None), dict(row, sentiment=None, sentiment_label="positive")],
        )
    upgrade(any_engine)
    assert current_revision(any_engine) == head_revision()
    assert daily(any_engine) == [
        ("2026-11-03", "webchat", "", "", "message", "negative", -1, 1),
        ("2026-11-03", "webchat", "", "", "message", "positive", -1, 1),
    ]

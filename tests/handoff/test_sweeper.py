"""The waiting-time sweeper on real Redis + SQLite, with the pipeline's real Deliverer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bots.dialogue.store import StateStore
from bots.handoff.modes import Modes
from bots.handoff.sweeper import Sweeper
from bots.live_events import live_channel
from bots.pipeline.deliverer import Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.ingest import keys_for
from bots.pipeline.turn import TurnResult
from bots.pipeline.worker import Worker, attach_sweeper
from bots.stores.models import audit_log, conversations, deliveries, messages
from connectors.base import ChannelRules, Outbound

pytestmark = pytest.mark.integration

DOMAIN = Path(__file__).resolve().parents[2] / "bots" / "airline" / "domain.yml"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Recorder:
    """A channel that records what it is asked to send."""

    channel = "test"
    rules = ChannelRules(max_text_length=4096, supports_buttons=False)

    def __init__(self) -> None:
        self.sent: list[Outbound] = []

    def parse(self, request: Any) -> list[Any]:
        return []

    def send(self, message: Outbound) -> str:
        self.sent.append(message)
        return f"p{len(self.sent)}"


@pytest.fixture
def settings(make_settings):
    return make_settings(
        {
            "dialogue": {"domain_file": str(DOMAIN), "actions_module": "bots.airline.actions"},
            "handoff": {"max_wait_minutes": 30},
        }
    )


def _wait(settings, redis_client, sql_engine, clock: Clock, cid: str, language: str = "en") -> None:
    with sql_engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid,
                channel="test",
                customer_id=cid.split(":")[-1],
                language=language,
                mode="bot",
                created_at=clock(),
                updated_at=clock(),
            )
        )
    store = StateStore(redis_client, settings.stores.key_prefix)
    Modes(store, sql_engine, clock).change(cid, "test", "waiting", actor="customer", reason="human_request")


def _deliverer(settings, redis_client, sql_engine, channel: Recorder) -> Deliverer:
    dl = DeadLetters(redis_client, keys_for(settings), 1000)
    return Deliverer.from_settings(redis_client, sql_engine, settings, {"test": channel}, dl, sleep=lambda s: None)


def test_overdue_waits_go_back_to_the_bot_with_one_apology(settings, redis_client, sql_engine) -> None:
    clock = Clock(T0)
    _wait(settings, redis_client, sql_engine, clock, "test:old", "fr")
    clock.at = T0 + timedelta(minutes=20)
    _wait(settings, redis_client, sql_engine, clock, "test:recent")
    channel = Recorder()
    sweeper = Sweeper.from_settings(
        settings, redis_client, sql_engine, _deliverer(settings, redis_client, sql_engine, channel), clock=clock
    )
    pubsub = redis_client.pubsub()
    pubsub.subscribe(live_channel(settings.stores.key_prefix))
    pubsub.get_message(timeout=1)

    clock.at = T0 + timedelta(minutes=25)
    assert sweeper.sweep() == 0
    clock.at = T0 + timedelta(minutes=31)
    assert sweeper.sweep() == 1
    assert sweeper.sweep() == 0  # done once

    store = StateStore(redis_client, settings.stores.key_prefix)
    assert store.load("test:old").mode == "bot" and store.load("test:recent").mode == "waiting"
    [sent] = channel.sent
    assert sent.recipient == "old" and sent.text.startswith("Toutes nos excuses")
    assert sent.idempotency_key == f"timeout:test:old:{T0.isoformat()}"
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:old")).one()
        assert row.mode == "bot" and row.waiting_since is None and row.last_preview.startswith("Toutes nos excuses")
        audit = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
            .where(audit_log.c.subject == "test:old")
            .order_by(audit_log.c.id)
        ).all()
        assert [(a.actor, a.action, a.detail["reason"]) for a in audit] == [
            ("customer", "mode:waiting", "human_request"),
            ("system", "mode:bot", "wait_timeout"),
        ]
        assert (
            conn.execute(select(messages.c.text).where(messages.c.conversation_id == "test:old")).scalar_one()
            == sent.text
        )
        assert (
            conn.execute(
                select(deliveries.c.status).where(deliveries.c.idempotency_key == sent.idempotency_key)
            ).scalar_one()
            == "sent"
        )
    import json

    events = []
    while (m := pubsub.get_message(timeout=0.5)) is not None:
        if m["type"] == "message" and json.loads(m["data"]).get("conversation_id") == "test:old":
            events.append(json.loads(m["data"]))  # (pub/sub is server-wide: other tests may publish)
    assert [(e["type"], e.get("reason"), e.get("author")) for e in events] == [
        ("mode", "wait_timeout", None),
        ("message", None, "bot"),
    ]
    pubsub.close()


def test_a_conversation_taken_over_meanwhile_is_left_alone(settings, redis_client, sql_engine) -> None:
    clock = Clock(T0)
    _wait(settings, redis_client, sql_engine, clock, "test:taken")
    channel = Recorder()
    sweeper = Sweeper.from_settings(
        settings, redis_client, sql_engine, _deliverer(settings, redis_client, sql_engine, channel), clock=clock
    )
    clock.at = T0 + timedelta(hours=2)
    rows = sweeper.overdue()
    Modes(sweeper.store, sql_engine, clock).change(
        "test:taken", "test", "human", actor="staff:1", reason="takeover", assigned_to=1
    )
    assert not sweeper._time_out(rows[0]) and channel.sent == []


def test_one_sweep_per_interval_across_processes(settings, redis_client, sql_engine) -> None:
    clock = Clock(T0)
    _wait(settings, redis_client, sql_engine, clock, "test:a")
    channel = Recorder()
    dl = _deliverer(settings, redis_client, sql_engine, channel)
    one = Sweeper.from_settings(settings, redis_client, sql_engine, dl, clock=clock, interval=30)
    two = Sweeper.from_settings(settings, redis_client, sql_engine, dl, clock=clock, interval=30)
    clock.at = T0 + timedelta(hours=1)
    assert one.run_if_due() == 1
    _wait(settings, redis_client, sql_engine, Clock(T0), "test:b")
    assert two.run_if_due() == 0  # the other process swept less than 30 s ago
    redis_client.delete(two.lock_key)  # the interval is over
    assert two.run_if_due() == 1


def test_the_queue_worker_runs_the_sweeper(settings, redis_client, sql_engine) -> None:
    clock = Clock(T0)
    _wait(settings, redis_client, sql_engine, clock, "test:w")
    channel = Recorder()
    worker = Worker(
        redis_client, sql_engine, settings, lambda inbound: TurnResult([]), {"test": channel}, sleep=lambda s: None
    )
    attach_sweeper(worker, settings, redis_client, sql_engine, clock=clock)
    clock.at = T0 + timedelta(hours=1)
    worker.run_once()
    assert [o.idempotency_key for o in channel.sent] == [f"timeout:test:w:{T0.isoformat()}"]
    _wait(settings, redis_client, sql_engine, Clock(T0), "test:w2")
    worker.run_once()  # not due yet (every ~30 s)
    assert len(channel.sent) == 1

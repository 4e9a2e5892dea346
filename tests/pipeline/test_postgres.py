"""Idempotent sends recorded in PostgreSQL (the production database)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text

from bots.pipeline import Ingest, Worker
from bots.stores.models import deliveries
from bots.stores.sql import make_engine, upgrade
from connectors.base import Inbound

from .fake_channel import echo_handler

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def pg_engine(pg_url):
    name = f"brandbot_pipe_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(pg_url.rsplit("/", 1)[0] + "/" + name)
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_deliveries_upsert_and_redo_on_postgresql(
    pipeline_settings, redis_client, pg_engine, fake_channel, fake_connector
) -> None:
    settings = pipeline_settings()
    ingest = Ingest(redis_client, settings)
    ingest.accept([Inbound("fake", "c1", "fake:c1", str(i), f"m{i}") for i in range(5)])
    w = Worker(redis_client, pg_engine, settings, echo_handler, {"fake": fake_connector})
    quiet = 0
    while quiet < 3:
        quiet = quiet + 1 if w.run_once() == 0 else 0
    with pg_engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.idempotency_key, deliveries.c.status)).all()
    assert sorted(tuple(r) for r in rows) == [(f"fake:{i}:0", "sent") for i in range(5)]
    # the Redis marks are gone (Redis lost its data): PostgreSQL alone still prevents a second send
    redis_client.flushdb()
    from connectors.base import Outbound

    again = Outbound("fake", "c1", "echo: m0", idempotency_key="fake:0:0", conversation_id="fake:c1")
    assert w.deliverer.deliver(again) == "duplicate"
    assert len(fake_channel.keys()) == 5


def test_nul_bytes_postgresql_refuses_are_dead_lettered_fast_with_an_apology_and_do_not_hold_up_others(
    pipeline_settings, redis_client, pg_engine, fake_channel, fake_connector
) -> None:
    """Found from outside: six web-chat messages holding a NUL byte (queued before the door
    cleaned text) each made the worker retry ~10 s as a store outage ("workers died on it"), and
    delayed an unrelated customer's reply from 0.2 s to 9.6 s. Now PostgreSQL's refusal belongs
    to the message: 3 quick tries, an apology, a dead letter with the reason."""
    import threading
    import time
    from datetime import UTC, datetime

    from bots.dialogue.transcript import record_turn
    from bots.pipeline import DeadLetters, keys_for
    from bots.pipeline.handlers import with_keys

    settings = pipeline_settings(shards=1)  # every conversation behind the poison, the worst case

    def handler(inbound: Inbound):
        result = echo_handler(inbound)
        outbounds = with_keys(inbound, result.outbounds)
        record_turn(pg_engine, inbound, outbounds, None, "en", "bot", datetime.now(UTC))
        return result

    ingest = Ingest(redis_client, settings)
    poison = [Inbound("fake", f"p{i}", f"fake:p{i}", f"p{i}", "hello\x00world") for i in range(6)]
    started = time.monotonic()
    ingest.accept([*poison, Inbound("fake", "ok", "fake:ok", "ok1", "hello")])
    w = Worker(redis_client, pg_engine, settings, handler, {"fake": fake_connector})
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        answered_at = None
        while time.monotonic() - started < 30:
            keys = fake_channel.keys()
            if answered_at is None and "fake:ok1:0" in keys:
                answered_at = time.monotonic() - started
            if len(keys) == 7:
                break
            time.sleep(0.02)
    finally:
        w.stop()
        thread.join(10)
    assert sorted(fake_channel.keys()) == sorted(["fake:ok1:0", *(f"fake:p{i}:turn-failed" for i in range(6))])
    assert answered_at is not None and answered_at < 3.0, f"the unrelated customer waited {answered_at}s"
    print(f"6 NUL messages ahead on one shard: the unrelated customer answered after {answered_at:.2f}s")
    letters = DeadLetters(redis_client, keys_for(settings)).list()
    assert len(letters) == 6 and all("NUL" in d.error and d.attempts == 3 and d.traceback for d in letters)

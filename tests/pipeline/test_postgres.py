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

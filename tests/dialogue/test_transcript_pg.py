"""The transcript on PostgreSQL: idempotent rows and the conversation upsert (a database per test)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bots.dialogue.transcript import record_turn
from bots.stores.models import conversations, messages
from connectors.base import Outbound

from .conftest import inbound

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_record_turn_is_idempotent_on_postgresql(pg_engine) -> None:
    engine = pg_engine
    now = datetime.now(UTC)
    msg = inbound("bonjour", conv="web:pg", message_id="m1")
    outs = [Outbound("web", "pg", "Bonjour !", idempotency_key="web:m1:0", conversation_id="web:pg")]
    record_turn(engine, msg, outs, {"intent": "greet"}, "fr", "bot", now)
    record_turn(engine, msg, outs, {"intent": "greet"}, "fr", "waiting", now)  # a redone turn
    with engine.connect() as c:
        rows = c.execute(select(messages.c.direction, messages.c.message_id)).all()
        conv = c.execute(select(conversations)).one()
    assert sorted(rows) == [("in", "m1"), ("out", "web:m1:0")]
    assert (conv.id, conv.language, conv.mode) == ("web:pg", "fr", "waiting")

"""A reply given up on keeps why on its deliveries row (``error_message``); a later send clears it.

Real Redis, real SQLite; the channel is an in-process stand-in that fails as told.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select

from bots.pipeline.deliverer import ERROR_MESSAGE_LENGTH, Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.keys import Keys
from bots.pipeline.retry import RetryPolicy
from bots.stores.models import deliveries
from connectors.base import ChannelRules, Outbound
from connectors.errors import PermanentSendError, TransientSendError

pytestmark = pytest.mark.integration

NUMBER = "+31612345678"


class Failing:
    """A channel that raises the errors it is given, one per call, then sends."""

    channel = "sms"
    rules = ChannelRules(max_text_length=1600, supports_buttons=False)

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)

    def parse(self, request: Any) -> list[Any]:
        return []

    def send(self, message: Outbound) -> str:
        if self.errors:
            raise self.errors.pop(0)
        return "SM1"


def deliverer(redis_client: redis.Redis, engine: Engine, channel: Failing) -> tuple[Deliverer, DeadLetters]:
    keys = Keys("bbe", 4)
    dead = DeadLetters(redis_client, keys)
    return Deliverer(redis_client, engine, keys, {"sms": channel}, RetryPolicy(2, 0.001, 0.01), dead), dead


def sms(key: str) -> Outbound:
    return Outbound("sms", NUMBER, text="Your flight is delayed", idempotency_key=key, conversation_id=f"sms:{NUMBER}")


def row(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(deliveries.c.status, deliveries.c.error_code, deliveries.c.error_message).where(
                deliveries.c.idempotency_key == key
            )
        ).one()


def test_a_permanent_error_leaves_its_text_on_the_row(redis_client, sql_engine) -> None:
    channel = Failing(PermanentSendError("Attempt to send to unsubscribed recipient", code="21610"))
    d, _ = deliverer(redis_client, sql_engine, channel)

    assert d.deliver(sms("k1")) == "failed"

    assert tuple(row(sql_engine, "k1")) == ("failed", "21610", "Attempt to send to unsubscribed recipient")


def test_a_long_error_is_cut_with_an_ellipsis_and_the_dead_letter_keeps_it_whole(redis_client, sql_engine) -> None:
    text = "Twilio is unavailable: " + "x" * 400
    d, dead = deliverer(
        redis_client, sql_engine, Failing(TransientSendError(text, code="503"), TransientSendError(text, code="503"))
    )

    assert d.deliver(sms("k1")) == "dead"

    status, code, message = row(sql_engine, "k1")
    assert (status, code) == ("dead", "503")
    assert len(message) == ERROR_MESSAGE_LENGTH == 300
    assert message.endswith("…") and message[:-1] == text[:299]
    assert [e.error for e in dead.list()] == [f"TransientSendError: {text}"]


def test_a_forced_resend_that_goes_through_clears_the_message(redis_client, sql_engine) -> None:
    d, _ = deliverer(redis_client, sql_engine, Failing(PermanentSendError("channel down for maintenance")))
    assert d.deliver(sms("k1")) == "failed"

    assert d.deliver(sms("k1"), force=True) == "sent"

    assert tuple(row(sql_engine, "k1")) == ("sent", None, None)

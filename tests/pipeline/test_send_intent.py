"""The intent to send is recorded before the call; an unknown outcome is reconciled with Twilio.

Real Redis, real SQLite, the real twilio client against the fake Twilio API (which can
accept a message and drop the connection instead of answering).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select

from bots.pipeline.deliverer import ATTEMPTED, Deliverer
from bots.pipeline.dlq import DeadLetters
from bots.pipeline.keys import Keys
from bots.pipeline.retry import RetryPolicy
from bots.stores.models import deliveries
from connectors._sendlog import Accepted, SendLog, match_parts
from connectors.base import ChannelRules, Outbound, Reconciles
from connectors.errors import OUTCOME_UNKNOWN, OutcomeUnknown, TransientSendError
from connectors.twilio.connector import SmsConnector
from tests.fakes._server import every
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI, twilio_error
from tests.support.net import free_port

pytestmark = pytest.mark.integration

NUMBER = "+31612345678"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_deliverer(redis_client: redis.Redis, engine: Engine, connector: Any, attempts: int = 5) -> Deliverer:
    keys = Keys("bbi", 4)
    return Deliverer(
        redis_client,
        engine,
        keys,
        {connector.channel: connector},
        RetryPolicy(attempts, 0.001, 0.01),
        DeadLetters(redis_client, keys),
    )


def sms(text: str, key: str) -> Outbound:
    return Outbound("sms", NUMBER, text=text, idempotency_key=key, conversation_id=f"sms:{NUMBER}")


def row(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(deliveries.c.status, deliveries.c.error_code, deliveries.c.provider_id).where(
                deliveries.c.idempotency_key == key
            )
        ).one_or_none()


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioAPI]:
    fake = FakeTwilioAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
def connector(redis_client: redis.Redis, twilio_api: FakeTwilioAPI) -> SmsConnector:
    return SmsConnector(
        DEFAULT_SID, DEFAULT_TOKEN, "+3120000000", redis_client, "bbi", api_base_url=twilio_api.base_url
    )


# -- the intent row -------------------------------------------------------------------------


class Spy:
    """A channel that notes the deliveries row as it stands when send() is called."""

    channel = "sms"
    rules = ChannelRules(max_text_length=100, supports_buttons=False)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[Any] = []

    def parse(self, request: Any) -> list[Any]:
        return []

    def send(self, message: Outbound) -> str:
        self.seen.append(row(self.engine, message.idempotency_key or ""))
        return "id-1"


def test_the_intent_is_committed_before_the_channel_is_called(redis_client, sql_engine) -> None:
    spy = Spy(sql_engine)
    assert make_deliverer(redis_client, sql_engine, spy).deliver(sms("hello", "k1")) == "sent"

    assert [tuple(r) if r else None for r in spy.seen] == [(ATTEMPTED, None, None)]
    assert tuple(row(sql_engine, "k1")) == ("sent", None, "id-1")


def test_a_cut_short_attempt_is_done_again_not_taken_as_handled(redis_client, sql_engine) -> None:
    class Died(BaseException):
        """The process died mid-send (nothing after it runs)."""

    class DiesOnce(Spy):
        def send(self, message: Outbound) -> str:
            if not self.seen:
                self.seen.append("died")
                raise Died
            return super().send(message)

    channel = DiesOnce(sql_engine)
    d = make_deliverer(redis_client, sql_engine, channel)
    with pytest.raises(Died):
        d.deliver(sms("hello", "k1"))
    assert row(sql_engine, "k1").status == ATTEMPTED

    assert d.deliver(sms("hello", "k1")) == "sent"  # not "duplicate": the attempt did not finish
    assert channel.seen[1].error_code == OUTCOME_UNKNOWN  # the redo knows it may be a resend


# -- Twilio: which failures leave the outcome unknown -------------------------------------------


def test_a_dropped_answer_is_an_unknown_outcome(connector, twilio_api) -> None:
    twilio_api.lose_answers("Messages")
    with pytest.raises(OutcomeUnknown, match="answer was lost"):
        connector.send(sms("hello", "k1"))
    assert len(twilio_api.created) == 1  # Twilio had accepted it


def test_refused_connections_and_error_answers_are_known_not_sent(redis_client, twilio_api) -> None:
    closed = SmsConnector(
        DEFAULT_SID, DEFAULT_TOKEN, "+3120000000", redis_client, "bbi", api_base_url=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(TransientSendError, match="nothing sent") as refused:
        closed.send(sms("hello", "k1"))
    assert not isinstance(refused.value, OutcomeUnknown)

    open_ = SmsConnector(
        DEFAULT_SID, DEFAULT_TOKEN, "+3120000000", redis_client, "bbi", api_base_url=twilio_api.base_url
    )
    twilio_api.fail("Messages", 503, twilio_error(20503, 503))
    with pytest.raises(TransientSendError) as unavailable:
        open_.send(sms("hello", "k2"))
    assert not isinstance(unavailable.value, OutcomeUnknown)
    assert twilio_api.created == []


# -- reconciling ----------------------------------------------------------------------------------


def test_twilio_connectors_reconcile() -> None:
    assert issubclass(SmsConnector, Reconciles)


def test_a_lost_answer_of_the_second_part_sends_neither_part_twice(redis_client, sql_engine, connector, twilio_api):
    text = ("word " * 400).strip()  # 1999 characters: two SMS parts
    twilio_api.lose_answers("Messages", when=every(2))

    assert make_deliverer(redis_client, sql_engine, connector).deliver(sms(text, "k1")) == "sent"

    assert len(twilio_api.messages()) == 2
    assert row(sql_engine, "k1").provider_id == ",".join(m["sid"] for m in twilio_api.created)


def test_an_earlier_reply_with_the_same_text_is_not_taken_for_the_lost_one(
    redis_client, sql_engine, connector, twilio_api
) -> None:
    d = make_deliverer(redis_client, sql_engine, connector)
    assert d.deliver(sms("Thank you!", "k1")) == "sent"
    twilio_api.lose_answers("Messages")

    assert d.deliver(sms("Thank you!", "k2")) == "sent"

    assert [m["body"] for m in twilio_api.created] == ["Thank you!", "Thank you!"]
    assert row(sql_engine, "k1").provider_id != row(sql_engine, "k2").provider_id


def test_a_reply_given_up_unsure_is_reconciled_when_forced_again(redis_client, sql_engine, connector, twilio_api):
    """Every answer lost and Twilio not answering the question: dead, but marked unsure, so
    ``brandbot dlq retry`` (force) asks Twilio before sending and the customer gets one."""
    twilio_api.lose_answers("Messages", when=lambda rec: rec.method == "POST")
    twilio_api.fail("Messages", 503, twilio_error(20503, 503), times=10, when=lambda rec: rec.method == "GET")
    d = make_deliverer(redis_client, sql_engine, connector, attempts=2)

    assert d.deliver(sms("Your seat is 12A", "k1")) == "dead"
    assert tuple(row(sql_engine, "k1"))[:2] == ("dead", OUTCOME_UNKNOWN)
    twilio_api.clear_faults()

    assert d.deliver(sms("Your seat is 12A", "k1"), force=True) == "sent"
    assert len(twilio_api.messages()) == 1
    assert row(sql_engine, "k1").provider_id == twilio_api.created[0]["sid"]


# -- matching, pure ---------------------------------------------------------------------------------


def accepted(sid: str, body: str, seconds: int) -> Accepted:
    return Accepted(sid, body, T0 + timedelta(seconds=seconds))


def test_parts_match_in_order_by_text() -> None:
    pool = [accepted("S3", "b", 2), accepted("S1", "a", 0), accepted("S2", "b", 1)]
    assert match_parts(["a", "b"], pool) == ["S1", "S2"]
    assert match_parts(["a", "b", "b"], pool) == ["S1", "S2", "S3"]


def test_a_part_not_found_is_none_and_a_template_part_matches_any_text() -> None:
    pool = [accepted("S1", "Your flight KL1234 is on time", 0)]
    assert match_parts(["other"], pool) == [None]
    assert match_parts([None], pool) == ["S1"]
    assert match_parts(["x", "y"], []) == [None, None]


def test_a_later_part_is_not_matched_to_a_message_older_than_the_earlier_part() -> None:
    pool = [accepted("S1", "b", 0), accepted("S2", "a", 1)]
    assert match_parts(["a", "b"], pool) == ["S2", None]


@pytest.mark.postgres
def test_a_crash_after_twilio_accepted_is_reconciled_on_postgresql(
    redis_client, pg_engine, connector, twilio_api, monkeypatch
) -> None:
    """The intent's time comes back from PostgreSQL (aware) and bounds the question to Twilio."""

    class Died(BaseException):
        """The process died after Twilio answered, before the send log was written."""

    def die(*args: Any) -> None:
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr(SendLog, "record_part", die)
        with pytest.raises(Died):
            make_deliverer(redis_client, pg_engine, connector).deliver(sms("hi", "k1"))
    assert row(pg_engine, "k1").status == ATTEMPTED

    assert make_deliverer(redis_client, pg_engine, connector).deliver(sms("hi", "k1")) == "sent"
    assert len(twilio_api.messages()) == 1
    assert row(pg_engine, "k1").provider_id == twilio_api.created[0]["sid"]

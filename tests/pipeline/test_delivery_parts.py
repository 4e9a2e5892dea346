"""Split replies: each part's status callback lands on its delivery_parts row and rolls the delivery up."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import inspect, select
from twilio.request_validator import RequestValidator

from bots.pipeline import Worker
from bots.pipeline.delivery_parts import apply_status, fit_provider_ids, roll_up_statuses
from bots.pipeline.turn import TurnResult
from bots.runtime import build_connectors_for
from bots.services import Services
from bots.stores.models import deliveries, delivery_parts
from bots.stores.sql import current_revision, head_revision, make_engine, upgrade
from bots.web.app import create_app
from connectors.base import Inbound, Outbound
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI

from .test_channels_e2e import PUBLIC, drain, post_whatsapp

pytestmark = pytest.mark.integration

SENTENCE = "Your booking ABC123 is confirmed for flight KL1234 from Amsterdam to Paris. "
CUSTOMER = "whatsapp:+31611111111"


# -- schema -------------------------------------------------------------------------
def test_migration_0002_adds_delivery_parts_on_sqlite(sqlite_url) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine, "0001")
    assert "delivery_parts" not in inspect(engine).get_table_names()
    upgrade(engine)
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    insp = inspect(engine)
    assert {c["name"] for c in insp.get_columns("delivery_parts")} >= {
        "idempotency_key",
        "part_index",
        "provider_id",
        "status",
        "error_code",
        "updated_at",
    }
    assert any(u["column_names"] == ["provider_id"] for u in insp.get_unique_constraints("delivery_parts"))


@pytest.mark.integration
@pytest.mark.postgres
def test_migration_0002_on_postgresql(pg_engine) -> None:
    upgrade(pg_engine)
    assert current_revision(pg_engine) == head_revision()
    assert "delivery_parts" in inspect(pg_engine).get_table_names()
    now = datetime.now(UTC)
    with pg_engine.begin() as conn:  # a long provider id list fits the String(200) column
        conn.execute(
            deliveries.insert().values(
                idempotency_key="k",
                channel="sms",
                recipient="+3161",
                conversation_id="sms:+3161",
                status="sent",
                provider_id=fit_provider_ids([f"SM{i:032x}" for i in range(9)]),
                created_at=now,
                updated_at=now,
            )
        )
    assert apply_status(pg_engine, "SMnone", "delivered") is None


# -- pure roll-up ---------------------------------------------------------------------
def test_roll_up_is_the_least_advanced_part_and_a_failure_wins() -> None:
    assert roll_up_statuses([(0, "delivered", None), (1, "sent", None)]) == ("sent", None)
    assert roll_up_statuses([(0, "read", None), (1, "delivered", None)]) == ("delivered", None)
    assert roll_up_statuses([(0, "delivered", None), (1, "undelivered", "30003"), (2, "failed", "30007")]) == (
        "undelivered",
        "30003",
    )
    with pytest.raises(ValueError, match="no parts"):
        roll_up_statuses([])


def test_long_provider_id_lists_fit_the_deliveries_column() -> None:
    ids = [f"SM{i:032x}" for i in range(9)]
    fitted = fit_provider_ids(ids)
    assert len(fitted) <= 200 and fitted.startswith(ids[0] + ",") and fitted.endswith(",+4")
    assert fit_provider_ids(ids[:2]) == ",".join(ids[:2])


# -- end to end: real twilio client, fake Twilio API ------------------------------------
def long_reply(inbound: Inbound) -> TurnResult:
    return TurnResult(
        [Outbound(channel=inbound.channel, recipient=inbound.sender_id, text=SENTENCE * 50)]
    )  # ~3,800 chars: 3 parts


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def split_world(request, make_settings, redis_client, redis_url):
    """Webhooks, a worker with a long reply and the real Twilio connector; the durable store is
    SQLite, and PostgreSQL when DATABASE_URL_PG is set (skipped locally otherwise, required in CI)."""
    sql_engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    twilio = FakeTwilioAPI().start()
    settings = make_settings(
        {
            "channels": {
                "webchat": {"enabled": False},
                "twilio": {
                    "enabled": True,
                    "account_sid": DEFAULT_SID,
                    "auth_token": DEFAULT_TOKEN,
                    "public_url": PUBLIC,
                    "whatsapp_from": "whatsapp:+3120000000",
                    "api_base_url": twilio.base_url,
                },
            },
            "pipeline": {"shards": 4, "send_backoff_initial": 0.001, "send_backoff_max": 0.01},
        }
    )
    services = Services(settings, redis_client, sql_engine, redis_url)
    app = create_app(settings, services)
    worker = Worker(redis_client, sql_engine, settings, long_reply, build_connectors_for(services))
    yield app.test_client(), services, worker, twilio
    twilio.stop()


def post_status(web, sid: str, status: str, error_code: str | None = None):
    form = {
        "MessageSid": sid,
        "MessageStatus": status,
        "To": CUSTOMER,
        "From": "whatsapp:+3120000000",
        "AccountSid": DEFAULT_SID,
    }
    if error_code:
        form["ErrorCode"] = error_code
    sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/status", form)
    r = web.post(
        "/webhooks/twilio/status",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )
    assert r.status_code == 200, r.get_data(as_text=True)


def delivery(services: Services):
    with services.engine.connect() as conn:
        return conn.execute(select(deliveries.c.status, deliveries.c.error_code, deliveries.c.provider_id)).one()


def parts(services: Services) -> list[tuple]:
    with services.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    delivery_parts.c.part_index,
                    delivery_parts.c.provider_id,
                    delivery_parts.c.status,
                    delivery_parts.c.error_code,
                ).order_by(delivery_parts.c.part_index)
            )
        ]


def test_split_reply_is_delivered_only_when_every_part_is(split_world) -> None:
    web, services, worker, twilio = split_world
    post_whatsapp(web, "SMin1", "tell me everything")
    drain(worker)
    assert len(twilio.messages()) == 3
    rows = parts(services)
    assert [r[0] for r in rows] == [0, 1, 2] and all(r[2] == "sent" for r in rows)
    status, _, provider_id = delivery(services)
    assert status == "sent" and provider_id == ",".join(r[1] for r in rows)

    first, second, third = (r[1] for r in rows)
    post_status(web, first, "delivered")
    post_status(web, third, "delivered")
    assert delivery(services)[0] == "sent", "part 2 is not delivered yet"
    post_status(web, second, "sent")
    assert delivery(services)[0] == "sent"
    post_status(web, second, "delivered")
    assert delivery(services)[:2] == ("delivered", None)
    post_status(web, first, "read")
    post_status(web, second, "sent")  # late, out of order: does not move the part back
    assert [r[2] for r in parts(services)] == ["read", "delivered", "delivered"]
    assert delivery(services)[0] == "delivered"


def test_an_undelivered_part_makes_the_delivery_undelivered_with_its_error_code(split_world) -> None:
    web, services, worker, _ = split_world
    post_whatsapp(web, "SMin2", "again")
    drain(worker)
    first, second, third = (r[1] for r in parts(services))
    post_status(web, first, "delivered")
    post_status(web, second, "undelivered", "63016")
    post_status(web, third, "delivered")
    post_status(web, second, "delivered")  # a failure is final
    assert delivery(services)[:2] == ("undelivered", "63016")
    assert parts(services)[1][2:] == ("undelivered", "63016")


def test_a_status_that_arrives_before_the_send_is_recorded_is_adopted(split_world) -> None:
    web, services, worker, _ = split_world
    post_status(web, "SM" + "0" * 31 + "2", "delivered")  # the fake's second sid: called back before we record it
    assert parts(services) == [(0, "SM" + "0" * 31 + "2", "delivered", None)]
    post_whatsapp(web, "SMin3", "hello")
    drain(worker)
    rows = parts(services)
    assert [r[1] for r in rows] == delivery(services)[2].split(",")
    assert rows[1][1] == "SM" + "0" * 31 + "2" and rows[1][2] == "delivered"
    assert delivery(services)[0] == "sent"
    post_status(web, rows[0][1], "delivered")
    post_status(web, rows[2][1], "delivered")
    assert delivery(services)[0] == "delivered"

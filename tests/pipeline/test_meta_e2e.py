"""Meta's channels on the pipeline's outbound path: signed webhook -> Ingest -> Worker -> Meta connector ->
fake Graph API, with its retries, Meta's rate limits, dead letters and WhatsApp status webhooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bots.pipeline import DeadLetters, Worker, keys_for
from bots.runtime import build_connectors_for, close_connectors
from bots.services import Services
from bots.stores.models import deliveries
from bots.web.app import create_app
from tests.connectors.conftest import META_SECRET, meta_config
from tests.connectors.meta_payloads import messaging, page_body, wa_message, wa_status, whatsapp_body
from tests.fakes.graph_api import DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI, is_send
from tests.support.signing import meta_signed

from .fake_channel import echo_handler
from .test_channels_e2e import drain

pytestmark = pytest.mark.integration

PSID = "6543210987654321"


@pytest.fixture
def world(make_settings, redis_client, sql_engine, redis_url):
    graph = FakeGraphAPI().start()
    settings = make_settings(
        {
            "channels": {
                "webchat": {"enabled": False},
                "meta": meta_config(graph, rate_limit_retry_seconds=0.01),
            },
            "pipeline": {"shards": 4, "send_backoff_initial": 0.001, "send_backoff_max": 0.01},
        }
    )
    services = Services(settings, redis_client, sql_engine, redis_url)
    app = create_app(settings, services)
    worker = Worker(redis_client, sql_engine, settings, echo_handler, build_connectors_for(services))
    yield app.test_client(), services, worker, graph
    close_connectors(services.connectors or {})
    graph.stop()


def post(web, payload) -> None:
    body, headers = meta_signed(META_SECRET, payload)
    assert web.post("/webhooks/meta", data=body, headers=headers).status_code == 200


def test_rate_limits_and_server_errors_are_retried_and_an_unreachable_person_dead_lettered(world) -> None:
    web, services, worker, graph = world
    graph.rate_limit(code=613, when=is_send)
    graph.fail_code(2, status=500, when=is_send)
    post(web, page_body(messaging(PSID, message={"text": "one"})))
    drain(worker)
    assert graph.texts(PSID) == ["echo: one"] * 3, "rate limited, 500, then accepted"
    with services.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalars().all() == ["sent"]
    graph.fail_code(551, times=5, when=is_send)  # the person cannot get messages: permanent
    post(web, page_body(messaging("7000000000000002", message={"text": "two"})))
    drain(worker)
    assert len(graph.sends()) == 4, "a permanent error is not retried"
    [letter] = DeadLetters(services.redis, keys_for(services.settings)).list()
    assert letter.kind == "send" and letter.attempts == 1 and "551" in letter.error


def test_whatsapp_statuses_follow_the_reply_to_read_and_a_failure_is_recorded(world) -> None:
    web, services, worker, graph = world
    post(web, whatsapp_body([wa_message("33612345678", text={"body": "hi"})]))
    drain(worker)
    with services.engine.connect() as conn:
        wamid = conn.execute(select(deliveries.c.provider_id)).scalar_one()
    assert wamid.startswith("wamid.") and graph.sends(DEFAULT_PHONE_NUMBER_ID)[0]["text"]["body"] == "echo: hi"
    for status in ("sent", "delivered", "read"):
        post(web, whatsapp_body(statuses=[wa_status(wamid, status, "33612345678")]))
    with services.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalar_one() == "read"
    post(web, whatsapp_body([wa_message("33699999999", text={"body": "again"})]))
    drain(worker)
    with services.engine.connect() as conn:
        second = conn.execute(
            select(deliveries.c.provider_id).where(deliveries.c.recipient == "+33699999999")
        ).scalar_one()
    post(web, whatsapp_body(statuses=[wa_status(second, "failed", "33699999999", error_code=131026)]))
    with services.engine.connect() as conn:
        row = conn.execute(
            select(deliveries.c.status, deliveries.c.error_code).where(deliveries.c.provider_id == second)
        ).one()
    assert tuple(row) == ("failed", "131026")


def test_a_redelivered_messenger_message_is_answered_once(world) -> None:
    web, _services, worker, graph = world
    payload = page_body(messaging(PSID, message={"text": "only once"}))
    for _ in range(3):
        post(web, payload)
    drain(worker)
    assert graph.texts(PSID) == ["echo: only once"]
    assert graph.typing(DEFAULT_PAGE_ID), "typing shown while the turn ran"

"""The whole path with the real connectors: signed webhook -> Ingest -> Worker -> connector.send -> fake channel API."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bots.pipeline import DeadLetters, Worker, keys_for
from bots.runtime import build_connectors_for
from bots.services import Services
from bots.stores.models import deliveries
from bots.web.app import create_app
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI, twilio_error

from .fake_channel import echo_handler

pytestmark = pytest.mark.integration

PUBLIC = "https://bot.example.com"
SECRET = "tg-secret-123"


@pytest.fixture
def world(make_settings, redis_client, sql_engine, redis_url):
    twilio, telegram = FakeTwilioAPI().start(), FakeTelegramAPI().start()
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
                "telegram": {
                    "enabled": True,
                    "token": TG_TOKEN,
                    "webhook_secret": SECRET,
                    "api_base_url": telegram.base_url,
                },
            },
            "pipeline": {"shards": 4, "send_backoff_initial": 0.001, "send_backoff_max": 0.01},
        }
    )
    services = Services(settings, redis_client, sql_engine, redis_url)
    app = create_app(settings, services)
    worker = Worker(redis_client, sql_engine, settings, echo_handler, build_connectors_for(services))
    yield app.test_client(), services, worker, twilio, telegram
    for connector in (services.connectors or {}).values():
        getattr(connector, "close", lambda: None)()  # stop the Telegram connector's event-loop thread
    twilio.stop()
    telegram.stop()


def drain(worker: Worker) -> None:
    quiet = 0
    for _ in range(300):
        quiet = quiet + 1 if worker.run_once() == 0 else 0
        if quiet >= 3:
            return
    raise AssertionError("queue did not drain")


def post_whatsapp(web, sid: str, body: str, sender: str = "whatsapp:+31611111111"):
    form = {
        "MessageSid": sid,
        "AccountSid": DEFAULT_SID,
        "From": sender,
        "To": "whatsapp:+3120000000",
        "Body": body,
        "NumMedia": "0",
    }
    sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
    return web.post(
        "/webhooks/twilio",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )


def telegram_update(update_id: int, chat: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana"},
        },
    }


def test_whatsapp_and_telegram_each_get_exactly_one_reply(world) -> None:
    web, services, worker, twilio, telegram = world
    for _ in range(3):  # every webhook delivered three times
        assert post_whatsapp(web, "SMa1", "hello").get_data(as_text=True) == "<Response/>"
        r = web.post(
            "/webhooks/telegram",
            json=telegram_update(501, 77, "bonjour"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert r.status_code == 200
    assert (
        web.post(
            "/webhooks/telegram",
            json=telegram_update(502, 77, "x"),
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        ).status_code
        == 403
    )
    drain(worker)
    assert [(m["To"], m["Body"]) for m in twilio.messages()] == [("whatsapp:+31611111111", "echo: hello")]
    sent_tg = [c.params for c in telegram.calls("sendMessage")]
    assert len(sent_tg) == 1 and "echo: bonjour" in str(sent_tg[0])
    with services.engine.connect() as conn:
        rows = {
            r.idempotency_key: r.status for r in conn.execute(select(deliveries.c.idempotency_key, deliveries.c.status))
        }
    assert rows == {"whatsapp:SMa1:0": "sent", "telegram:501:0": "sent"}


def test_twilio_429_and_5xx_are_retried_and_21610_is_dead_lettered(world) -> None:
    web, services, worker, twilio, _ = world
    twilio.fail("Messages", 429, twilio_error(20429, 429), times=1)
    twilio.fail("Messages", 500, twilio_error(20500, 500), times=1)
    post_whatsapp(web, "SMb1", "one")
    drain(worker)
    assert [m["Body"] for m in twilio.messages()] == ["echo: one"] * 3, "429, 500, then accepted"
    with services.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalars().all() == ["sent"]
    twilio.fail_code(21610, times=5)  # the customer opted out: permanent
    post_whatsapp(web, "SMb2", "two", sender="whatsapp:+31622222222")
    drain(worker)
    assert len(twilio.calls("Messages")) == 4, "a permanent error is not retried"
    [letter] = DeadLetters(services.redis, keys_for(services.settings)).list()
    assert letter.kind == "send" and letter.attempts == 1 and "21610" in letter.error


def test_twilio_status_callback_lands_on_the_delivery_row(world) -> None:
    web, services, worker, _twilio, _ = world
    post_whatsapp(web, "SMc1", "hi")
    drain(worker)
    with services.engine.connect() as conn:
        provider_id = conn.execute(select(deliveries.c.provider_id)).scalar_one()
    assert provider_id.startswith("SM")
    form = {
        "MessageSid": provider_id,
        "MessageStatus": "delivered",
        "To": "whatsapp:+31611111111",
        "From": "whatsapp:+3120000000",
        "AccountSid": DEFAULT_SID,
    }
    sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/status", form)
    r = web.post(
        "/webhooks/twilio/status",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )
    assert r.status_code == 200
    with services.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalar_one() == "delivered"


def test_telegram_button_press_is_resolved_by_the_worker_and_answered_before_the_reply(world) -> None:
    import json
    from pathlib import Path

    web, _, worker, _, telegram = world
    update = json.loads(
        (Path(__file__).parent.parent / "connectors" / "fixtures" / "telegram_callback_query.json").read_text()
    )
    r = web.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert r.status_code == 200
    drain(worker)
    endpoints = [c.endpoint for c in telegram.requests]
    assert endpoints.index("answerCallbackQuery") < endpoints.index("sendMessage")
    assert "echo: Yes, please" in str(telegram.calls("sendMessage")[0].params)

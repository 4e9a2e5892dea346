"""``POST /api/v1/notifications`` end to end, as `make run` runs it with Telegram and Twilio on:
the API key, the checks (422 naming the field), the channel choice (opt-outs, the WhatsApp window
and its template), the send through the real clients to the fake APIs, the status, and the
customer's reply answered by the bot in the same conversation with the booking already known."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bots.apikeys.store import ApiKeys
from bots.stores.models import messages
from tests.connectors.conftest import DEFAULT_SID, SMS_FROM, TG_SECRET, TWILIO_TOKEN, WHATSAPP_FROM, load_fixture
from tests.connectors.test_end_to_end import wait_for
from tests.connectors.test_webhooks_http import PUBLIC, post_telegram, post_twilio
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.support.live import deployment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLIGHT_TEMPLATE = "HX" + "f1" * 16
FLIGHT_TEMPLATE_FR = "HX" + "f2" * 16


@pytest.fixture
def live(redis_url, redis_client, demo_nlu_dir: Path, tmp_path: Path) -> Iterator[Any]:
    """The shipped config.yaml with Telegram and Twilio on (fake APIs), workers embedded, an API key."""
    with FakeTelegramAPI() as telegram, FakeTwilioAPI() as twilio:
        env = {
            "TELEGRAM_ENABLED": "true",
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TWILIO_ENABLED": "true",
            "TWILIO_ACCOUNT_SID": DEFAULT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
            "TWILIO_SMS_FROM": SMS_FROM,
            "TWILIO_API_BASE_URL": twilio.base_url,
            "TWILIO_PUBLIC_URL": PUBLIC,
        }
        template = {"content_sid": FLIGHT_TEMPLATE, "variables": ["{flight}", "{status}"]}
        overrides = {
            "channels.telegram.per_chat_messages": 100,
            "channels.twilio.whatsapp.templates": {
                "flight_update": {**template, "languages": {"fr": FLIGHT_TEMPLATE_FR}}
            },
        }
        with deployment(env, redis_url, demo_nlu_dir, tmp_path, overrides) as (client, services):
            key = ApiKeys(services.engine).create("booking system", "notify")
            yield client, services, key, telegram, twilio


def notify(client: Any, key: str | None, body: dict[str, Any], idempotency: str | None = None) -> Any:
    headers = {"X-Api-Key": key} if key else {}
    if idempotency:
        headers["Idempotency-Key"] = idempotency
    return client.post("/api/v1/notifications", json=body, headers=headers)


def flight_update(**recipient: Any) -> dict[str, Any]:
    return {"kind": "flight_update", "variables": {"flight": "NB1234", "status": "delayed to 18:40"}, **recipient}


def test_the_same_idempotency_key_twice_sends_one_message(live) -> None:
    client, _services, key, _tg, twilio = live
    body = flight_update(recipient={"channel": "sms", "id": "+33 6 12 34 56 78"})
    first = notify(client, key.key, body, idempotency="delay-NB1234-ana")
    again = notify(client, key.key, body, idempotency="delay-NB1234-ana")
    assert first.status_code == again.status_code == 202, first.get_json()
    assert first.get_json()["notification"]["id"] == again.get_json()["notification"]["id"]
    assert first.headers["Location"].endswith(first.get_json()["notification"]["id"])
    [sent] = wait_for(lambda: twilio.messages(to="+33612345678"))
    assert sent["Body"].startswith("Flight NB1234 update: delayed to 18:40.")
    time.sleep(0.5)
    assert len(twilio.messages(to="+33612345678")) == 1
    other = notify(
        client, key.key, flight_update(recipient={"channel": "sms", "id": "+33699999999"}), "delay-NB1234-ana"
    )
    assert other.status_code == 409 and other.get_json()["field"] == "Idempotency-Key"


def test_an_unknown_kind_or_a_missing_variable_is_a_422_naming_it(live) -> None:
    client, _services, key, _tg, _tw = live
    to = {"recipient": {"channel": "sms", "id": "+33612345678"}}
    unknown = notify(client, key.key, {"kind": "gate_chnage", "variables": {}, **to})
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "kind"
    assert "flight_update" in unknown.get_json()["error"]
    missing = notify(client, key.key, {"kind": "flight_update", "variables": {"flight": "NB1234"}, **to})
    assert missing.status_code == 422 and missing.get_json()["field"] == "variables.status"
    typed = notify(client, key.key, {"kind": "flight_update", "variables": {"flight": 1234}, **to})
    assert typed.status_code == 422 and typed.get_json()["field"].startswith("variables")
    nobody = notify(client, key.key, {"kind": "flight_update", "variables": {"flight": "NB1", "status": "ok"}})
    assert nobody.status_code == 422 and nobody.get_json()["field"] == "recipient"


def test_no_key_or_a_revoked_key_is_401(live) -> None:
    client, services, key, _tg, _tw = live
    body = flight_update(recipient={"channel": "sms", "id": "+33612345678"})
    assert notify(client, None, body).status_code == 401
    assert notify(client, "bbk_notakey", body).status_code == 401
    assert ApiKeys(services.engine).revoke(key.id)
    refused = notify(client, key.key, body)
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers
    staff_token_style = client.post("/api/v1/notifications", json=body, headers={"Authorization": f"Bearer {key.key}"})
    assert staff_token_style.status_code == 401


def test_an_sms_opted_out_customer_is_refused_with_the_reason_and_nothing_sent(live) -> None:
    client, _services, key, _tg, twilio = live
    stop = dict(load_fixture("twilio_sms_text"), Body="STOP", From="+33611112222", MessageSid="SMstop42")
    assert post_twilio(client, stop).status_code == 200
    answer = notify(client, key.key, flight_update(recipient={"channel": "sms", "id": "+33611112222"}))
    assert answer.status_code == 202
    notification = answer.get_json()["notification"]
    assert notification["state"] == "refused" and "opted out" in notification["reason"]
    time.sleep(0.5)
    assert twilio.messages(to="+33611112222") == []
    again = client.get(f"/api/v1/notifications/{notification['id']}", headers={"X-Api-Key": key.key})
    assert again.get_json()["notification"]["state"] == "refused"


def test_whatsapp_outside_the_window_sends_the_kinds_template_in_the_customers_language(live) -> None:
    client, _services, key, _tg, twilio = live
    answer = notify(
        client, key.key, {**flight_update(recipient={"channel": "whatsapp", "id": "+33655556666"}), "language": "fr"}
    )
    assert answer.get_json()["notification"]["state"] == "queued", answer.get_json()
    [sent] = wait_for(lambda: twilio.messages(to="whatsapp:+33655556666"))
    assert sent["ContentSid"] == FLIGHT_TEMPLATE_FR and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "NB1234", "2": "delayed to 18:40"}


def test_the_status_follows_the_delivery_callbacks(live) -> None:
    client, _services, key, _tg, twilio = live
    answer = notify(client, key.key, flight_update(recipient={"channel": "sms", "id": "+33677778888"}))
    notification_id = answer.get_json()["notification"]["id"]
    wait_for(lambda: twilio.messages(to="+33677778888"))
    url = f"/api/v1/notifications/{notification_id}"
    got = wait_for(
        lambda: (
            [1] if client.get(url, headers={"X-Api-Key": key.key}).get_json()["notification"]["state"] == "sent" else []
        )
    )
    assert got, client.get(url, headers={"X-Api-Key": key.key}).get_json()
    sid = twilio.created[-1]["sid"]
    form = {
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "To": "+33677778888",
        "From": SMS_FROM,
        "AccountSid": DEFAULT_SID,
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/status", form)
    posted = client.post(
        "/webhooks/twilio/status",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert posted.status_code == 200
    assert client.get(url, headers={"X-Api-Key": key.key}).get_json()["notification"]["state"] == "delivered"


def test_the_customers_reply_continues_the_conversation_with_the_booking_known(live) -> None:
    client, services, key, telegram, _tw = live
    update = copy.deepcopy(load_fixture("telegram_message_text"))
    chat = update["message"]["chat"]["id"]
    update["message"]["text"] = "What is the status of my booking X7K9QZ?"
    assert post_telegram(client, update).status_code == 200
    wait_for(lambda: telegram.sent_texts(chat))  # the identity step asks the surname
    update = copy.deepcopy(update)
    update["update_id"] += 1
    update["message"]["message_id"] += 1
    update["message"]["text"] = "Dupont"
    assert post_telegram(client, update).status_code == 200
    # the bot looked the booking up: the chat is linked to it
    wait_for(lambda: [t for t in telegram.sent_texts(chat) if "Camille Dupont" in t])
    time.sleep(0.5)  # the rest of that turn (a consent question) arrives before the notification
    before = len(telegram.sent_texts(chat))

    gate = {"kind": "gate_change", "variables": {"flight": "NB1234", "gate": "D7"}, "booking": "x7k9qz"}
    answer = notify(client, key.key, gate)
    assert answer.get_json()["notification"]["channel"] == "telegram", answer.get_json()
    texts = wait_for(lambda: telegram.sent_texts(chat)[before:])
    assert texts == ["Flight NB1234 now departs from gate D7."]

    reply = copy.deepcopy(update)
    reply["update_id"] += 1
    reply["message"]["message_id"] += 1
    reply["message"]["text"] = "I want to change my seat"
    assert post_telegram(client, reply).status_code == 200
    asked = wait_for(lambda: telegram.sent_texts(chat)[before + 1 :])
    assert "seat" in asked[0].lower() and "booking reference" not in asked[0].lower(), asked
    assert "surname" not in asked[0].lower(), asked

    with services.engine.connect() as conn:
        rows = conn.execute(
            select(messages.c.direction, messages.c.text).where(messages.c.conversation_id == f"telegram:{chat}")
        ).all()
    assert ("out", "Flight NB1234 now departs from gate D7.") in [tuple(r) for r in rows]


def test_the_console_shows_the_notification_in_the_conversation(live) -> None:
    client, services, key, _tg, twilio = live
    answer = notify(client, key.key, flight_update(recipient={"channel": "sms", "id": "+33622223333"}))
    assert answer.get_json()["notification"]["state"] == "queued"
    wait_for(lambda: twilio.messages(to="+33622223333"))
    from bots.desk.service import build_desk
    from bots.runtime import build_connectors_for

    desk = build_desk(services.settings, services.redis, services.engine, build_connectors_for(services))
    detail = desk.detail("sms:+33622223333")
    [shown] = [m for m in detail.messages if m.direction == "out"]
    assert shown.kind == "notification: flight_update" and shown.text.startswith("Flight NB1234 update")
    assert [m for m in detail.messages if m.direction == "in"] == [], "the event is not shown as a customer message"

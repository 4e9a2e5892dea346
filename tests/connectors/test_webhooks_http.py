"""The real connectors behind the app's webhook routes: 403 forged, 400 malformed, a retried
delivery enqueued once; on Telegram, WhatsApp and SMS alike."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from bots.pipeline import keys_for
from bots.services import Services
from connectors.telegram import SECRET_HEADER

from .conftest import TG_SECRET, TWILIO_TOKEN, load_fixture

pytestmark = pytest.mark.integration  # real Redis, SQL and the fake channel APIs

PUBLIC = "https://bot.example.com"


def backlog(services: Services) -> list[dict]:
    out: list[dict] = []
    for stream in keys_for(services.settings).all_streams():
        for _, fields in services.redis.xrange(stream):
            out.extend(json.loads(v) for v in fields.values() if isinstance(v, bytes) and v.startswith(b"{"))
    return out


def post_telegram(client, update, secret=TG_SECRET):
    headers = {SECRET_HEADER: secret} if secret else {}
    body = update if isinstance(update, bytes) else json.dumps(update)
    return client.post("/webhooks/telegram", data=body, content_type="application/json", headers=headers)


def post_twilio(client, form, path="/webhooks/twilio", token=TWILIO_TOKEN):
    sig = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return client.post(
        path,
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )


def test_telegram_forged_malformed_and_retried(app_services):
    app, services = app_services
    client = app.test_client()
    update = load_fixture("telegram_message_text")
    assert post_telegram(client, update, secret="wrong").status_code == 403
    assert post_telegram(client, update, secret=None).status_code == 403
    assert backlog(services) == []
    assert post_telegram(client, b"{not json").status_code == 400
    assert backlog(services) == []
    assert [post_telegram(client, update).status_code for _ in range(3)] == [200, 200, 200]
    [queued] = backlog(services)
    assert (queued["channel"], queued["message_id"], queued["text"]) == (
        "telegram",
        "815400001",
        "Can I change my seat on KL1234?",
    )


@pytest.mark.parametrize("fixture, channel", [("twilio_whatsapp_text", "whatsapp"), ("twilio_sms_text", "sms")])
def test_twilio_forged_malformed_and_retried(app_services, fixture, channel):
    app, services = app_services
    client = app.test_client()
    form = load_fixture(fixture)
    assert post_twilio(client, form, token="not-the-token").status_code == 403
    assert backlog(services) == []
    assert post_twilio(client, {"Body": "no sid, no sender"}).status_code == 400
    assert [post_twilio(client, form).status_code for _ in range(3)] == [200, 200, 200]
    [queued] = backlog(services)
    assert (queued["channel"], queued["message_id"]) == (channel, form["MessageSid"])


def test_sms_stop_over_http_is_recorded_and_enqueued_as_an_event(app_services):
    app, services = app_services
    client = app.test_client()
    assert post_twilio(client, load_fixture("twilio_sms_stop")).status_code == 200
    [queued] = backlog(services)
    assert (queued["kind"], queued["event"]) == ("event", "opt_out")
    assert services.connectors["sms"].is_opted_out("+31612345678")


def test_status_callback_route_uses_the_connector(app_services):
    app, services = app_services
    r = post_twilio(
        app.test_client(), load_fixture("twilio_status_sms_undelivered_21610"), path="/webhooks/twilio/status"
    )
    assert r.status_code == 200
    assert services.connectors["sms"].is_opted_out("+31612345678")

"""Webhooks: verify, parse, dedupe, enqueue, answer at once; 403/400/503; status callbacks; /metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import insert, select
from twilio.request_validator import RequestValidator

from bots.pipeline import keys_for
from bots.services import Services
from bots.stores.models import deliveries
from bots.web.app import create_app
from connectors.base import ChannelRules, Inbound, Outbound, WebhookRequest
from connectors.twilio.parse import form_of, parse_message_form, verify_signature

pytestmark = pytest.mark.integration

TOKEN = "test-auth-token-123"
PUBLIC = "https://bot.example.com"


class TwilioLike:
    """A minimal Twilio inbound parser built from connectors.twilio.parse (no Redis state, no sends)."""

    rules = ChannelRules(max_text_length=1600, supports_buttons=False)

    def __init__(self, channel: str, public_url: str = "") -> None:
        self.channel = channel
        self.public_url = public_url

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        form = form_of(request)
        verify_signature(request, TOKEN, self.public_url, form=form)
        return [parse_message_form(form)]

    def send(self, message: Outbound) -> str:  # pragma: no cover - not used here
        raise NotImplementedError


def twilio_form(sid: str = "SM1", body: str = "hello") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": "AC1",
        "From": "whatsapp:+31611111111",
        "To": "whatsapp:+3120000000",
        "Body": body,
        "NumMedia": "0",
    }


def signed(url: str, form: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}


@pytest.fixture
def twilio_settings(make_settings):
    return make_settings(
        {
            "channels": {
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC1",
                    "auth_token": TOKEN,
                    "public_url": PUBLIC,
                    "whatsapp_from": "whatsapp:+3120000000",
                }
            },
            "pipeline": {"shards": 4},
        }
    )


@pytest.fixture
def app_and_services(twilio_settings, redis_client, sql_engine, redis_url):
    services = Services(twilio_settings, redis_client, sql_engine, redis_url)
    services.connectors = {"whatsapp": TwilioLike("whatsapp", PUBLIC), "sms": TwilioLike("sms", PUBLIC)}
    return create_app(twilio_settings, services), services


def backlog(services: Services) -> int:
    return sum(services.redis.xlen(s) for s in keys_for(services.settings).all_streams())


def post_twilio(client, form, path="/webhooks/twilio", query="", sign_url=None):
    url = sign_url or (PUBLIC + path + (f"?{query}" if query else ""))
    return client.post(
        path + (f"?{query}" if query else ""),
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers=signed(url, form),
    )


def test_signed_twilio_message_is_enqueued_once_and_answered_with_empty_twiml(app_and_services) -> None:
    app, services = app_and_services
    client = app.test_client()
    answers = [post_twilio(client, twilio_form(), query="x=1") for _ in range(3)]
    assert [(r.status_code, r.get_data(as_text=True), r.mimetype) for r in answers] == [
        (200, "<Response/>", "text/xml")
    ] * 3
    assert backlog(services) == 1


def test_forged_twilio_request_is_403_and_nothing_is_enqueued(app_and_services) -> None:
    app, services = app_and_services
    form = twilio_form()
    r = post_twilio(app.test_client(), form, sign_url="https://evil.example.com/webhooks/twilio")
    assert r.status_code == 403
    r = app.test_client().post(
        "/webhooks/twilio", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 403
    assert backlog(services) == 0


def test_malformed_twilio_request_is_400(app_and_services) -> None:
    app, services = app_and_services
    form = {"AccountSid": "AC1", "Body": "no sender nor sid"}
    r = post_twilio(app.test_client(), form)
    assert r.status_code == 400 and "malformed" in r.get_data(as_text=True)
    assert backlog(services) == 0


def test_disabled_channel_is_404(app_and_services) -> None:
    app, _ = app_and_services
    assert app.test_client().post("/webhooks/telegram", json={}).status_code == 404


def test_redis_down_gives_503_on_webhooks_and_readyz_says_why(twilio_settings, sql_engine) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    services = Services(twilio_settings, dead, sql_engine, "redis://127.0.0.1:1/0")
    services.connectors = {"whatsapp": TwilioLike("whatsapp", PUBLIC)}
    client = create_app(twilio_settings, services).test_client()
    r = post_twilio(client, twilio_form())
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["checks"]["redis"] == "unavailable"
    assert any("Redis" in reason and "127.0.0.1:1" in reason for reason in body["reasons"])
    metrics = client.get("/metrics")  # still answers, without the queue gauges
    assert metrics.status_code == 200 and "brandbot_queue_depth" not in metrics.get_data(as_text=True)


def test_full_queue_gives_503_and_readyz_names_it(make_settings, redis_client, sql_engine, redis_url) -> None:
    settings = make_settings(
        {
            "channels": {
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC1",
                    "auth_token": TOKEN,
                    "public_url": PUBLIC,
                    "whatsapp_from": "whatsapp:+3120000000",
                }
            },
            "pipeline": {"shards": 1, "stream_maxlen": 100},
        }
    )
    services = Services(settings, redis_client, sql_engine, redis_url)
    services.connectors = {"whatsapp": TwilioLike("whatsapp", PUBLIC)}
    client = create_app(settings, services).test_client()
    codes = [post_twilio(client, twilio_form(sid=f"SM{i}")).status_code for i in range(101)]
    assert codes[:100] == [200] * 100 and codes[100] == 503
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "inbound queue full" in " ".join(ready.get_json()["reasons"])


def test_status_callback_updates_the_delivery_row(app_and_services) -> None:
    app, services = app_and_services
    now = datetime.now(UTC)
    with services.engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                idempotency_key="whatsapp:SM1:0",
                channel="whatsapp",
                recipient="+31611111111",
                conversation_id="whatsapp:+31611111111",
                provider_id="SMout1",
                status="sent",
                created_at=now,
                updated_at=now,
            )
        )
    form = {
        "MessageSid": "SMout1",
        "MessageStatus": "undelivered",
        "ErrorCode": "30008",
        "To": "whatsapp:+31611111111",
        "AccountSid": "AC1",
    }
    r = post_twilio(app.test_client(), form, path="/webhooks/twilio/status")
    assert r.status_code == 200
    with services.engine.connect() as conn:
        assert tuple(conn.execute(select(deliveries.c.status, deliveries.c.error_code)).one()) == (
            "undelivered",
            "30008",
        )
    assert (
        post_twilio(app.test_client(), form, path="/webhooks/twilio/status", sign_url="https://x/y").status_code == 403
    )


def test_metrics_endpoint_reports_inbound_and_queue(app_and_services) -> None:
    app, _ = app_and_services
    client = app.test_client()
    post_twilio(client, twilio_form(sid="SMm1"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'brandbot_inbound_messages_total{channel="whatsapp",result="accepted"}' in text
    assert "brandbot_queue_depth 1.0" in text
    for name in (
        "brandbot_turn_seconds",
        "brandbot_sends_total",
        "brandbot_send_retries_total",
        "brandbot_dead_letters_total",
        "brandbot_handoffs_total",
        "brandbot_queue_lag_seconds",
    ):
        assert name in text


def test_a_webhook_keeps_a_safe_caller_request_id_and_logs_under_it(app_and_services, caplog) -> None:
    import logging

    from bots.logging_setup import request_id_var

    app, services = app_and_services
    ids: list[str | None] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            ids.append(request_id_var.get())

    spy = Spy(level=logging.WARNING)
    logging.getLogger("bots.web.webhooks").addHandler(spy)
    try:
        with caplog.at_level(logging.WARNING, logger="bots.web.webhooks"):
            r = app.test_client().post(
                "/webhooks/twilio",
                data=urlencode(twilio_form()),
                content_type="application/x-www-form-urlencoded",
                headers={"X-Request-ID": "req-42"},
            )
    finally:
        logging.getLogger("bots.web.webhooks").removeHandler(spy)
    assert r.status_code == 403 and r.headers["X-Request-ID"] == "req-42"
    assert "forged" in caplog.text and ids == ["req-42"]
    assert request_id_var.get() is None  # the context is reset after the request
    unsafe = app.test_client().post("/webhooks/twilio", data="", headers={"X-Request-ID": "bad id;"})
    assert unsafe.headers["X-Request-ID"] != "bad id;" and len(unsafe.headers["X-Request-ID"]) == 32
    assert backlog(services) == 0


def test_get_on_a_webhook_path_is_405_and_unknown_webhook_paths_are_404(app_and_services) -> None:
    app, _ = app_and_services
    client = app.test_client()
    for path in ("/webhooks/twilio", "/webhooks/telegram", "/webhooks/twilio/status"):
        r = client.get(path)
        assert r.status_code == 405 and "POST" in r.headers["Allow"] and r.headers["X-Request-ID"]
    assert client.post("/webhooks/nope").status_code == 404


def test_oversized_webhook_body_is_413_and_nothing_is_enqueued(app_and_services) -> None:
    app, services = app_and_services
    form = twilio_form(body="x" * (1024 * 1024 + 1))
    r = post_twilio(app.test_client(), form)
    assert r.status_code == 413 and r.headers["X-Request-ID"]
    assert backlog(services) == 0


def test_unexpected_error_in_a_webhook_is_logged_and_answered_500(app_and_services, caplog) -> None:
    app, services = app_and_services

    class Broken(TwilioLike):
        def parse(self, request: WebhookRequest) -> list[Inbound]:
            raise RuntimeError("connector bug")

    services.connectors = {"whatsapp": Broken("whatsapp", PUBLIC)}
    app.testing = True
    with pytest.raises(RuntimeError, match="connector bug"):  # testing: raised, as Flask does
        app.test_client().post("/webhooks/twilio", data="a=b", content_type="application/x-www-form-urlencoded")
    app.testing = False
    r = app.test_client().post("/webhooks/twilio", data="a=b", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 500 and r.headers["X-Request-ID"]
    assert "connector bug" in caplog.text and "Exception on /webhooks/twilio [POST]" in caplog.text

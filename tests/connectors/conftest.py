"""Fixtures of the connector tests: fake channel APIs on 127.0.0.1 and connectors pointed at them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from twilio.request_validator import RequestValidator

from connectors._ratelimit import Rate
from connectors.base import WebhookRequest
from connectors.telegram import SECRET_HEADER, TelegramConnector
from connectors.twilio import KeywordConfig, SmsConnector, TemplateSpec, WhatsAppConnector
from tests.fakes.graph_api import DEFAULT_INSTAGRAM_ID, DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI
from tests.fakes.graph_api import DEFAULT_TOKEN as META_TOKEN
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, FakeTwilioAPI
from tests.fakes.twilio_api import DEFAULT_TOKEN as TWILIO_TOKEN

FIXTURES = Path(__file__).parent / "fixtures"
TG_SECRET = "s3cr3t-Token_from-set-webhook"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def telegram_request(update: dict[str, Any] | bytes, secret: str | None = TG_SECRET) -> WebhookRequest:
    body = update if isinstance(update, bytes) else json.dumps(update).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return WebhookRequest("POST", "https://bot.example.com/webhooks/telegram", headers, body)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def telegram(fake_telegram: FakeTelegramAPI, redis_client: redis.Redis) -> Iterator[TelegramConnector]:
    """A connector on the fake with generous rate limits (the rate-limit test sets its own)."""
    conn = TelegramConnector(
        DEFAULT_TOKEN,
        TG_SECRET,
        redis_client,
        "test",
        api_base_url=fake_telegram.base_url,
        per_chat=Rate(100),
        overall=Rate(1000),
        timeout=5,
    )
    yield conn
    conn.close()


# -- Twilio ---------------------------------------------------------------------
TWILIO_URL = "https://bot.example.com/webhooks/twilio"
STATUS_URL = "https://bot.example.com/webhooks/twilio/status"
SMS_FROM = "+14155550100"
WHATSAPP_FROM = "whatsapp:+14155238886"
REPLY_TEMPLATE = TemplateSpec("HX" + "b" * 32, ["{text}"])


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_764_370_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def twilio_request(
    form: dict[str, str],
    url: str = TWILIO_URL,
    token: str = TWILIO_TOKEN,
    signature: str | None = "compute",
    signed_url: str | None = None,
) -> WebhookRequest:
    """A request as Twilio sends it: urlencoded form, X-Twilio-Signature over ``signed_url or url``."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "I-Twilio-Idempotency-Token": "d4c1"}
    if signature == "compute":
        signature = RequestValidator(token).compute_signature(signed_url or url, form)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return WebhookRequest("POST", url, headers, urlencode(form).encode("utf-8"), form)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        yield fake


def _twilio_kwargs(fake: FakeTwilioAPI, clock: Clock) -> dict[str, Any]:
    return dict(
        api_base_url=fake.base_url,
        status_callback_url=STATUS_URL,
        clock=clock,
        timeout=5,
        keywords=KeywordConfig.with_extra(
            {"fr": {"opt_out": ["ARRET", "ARRÊT"], "opt_in": ["DEMARRER"], "help": ["AIDE"]}}
        ),
    )


@pytest.fixture
def sms(fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock) -> SmsConnector:
    return SmsConnector(DEFAULT_SID, TWILIO_TOKEN, SMS_FROM, redis_client, "test", **_twilio_kwargs(fake_twilio, clock))


@pytest.fixture
def whatsapp(fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock) -> WhatsAppConnector:
    return WhatsAppConnector(
        DEFAULT_SID,
        TWILIO_TOKEN,
        WHATSAPP_FROM,
        redis_client,
        "test",
        templates={"reply": REPLY_TEMPLATE},
        **_twilio_kwargs(fake_twilio, clock),
    )


# -- Meta -------------------------------------------------------------------------
META_SECRET = "meta-app-secret-0123456789abcdef"
META_VERIFY = "verify-me-0123456789"


@pytest.fixture
def fake_graph() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI() as fake:
        yield fake


def meta_config(fake_graph: FakeGraphAPI, **extra: Any) -> dict[str, Any]:
    """The ``channels.meta`` section turning Messenger, Instagram and WhatsApp Cloud on against the fake."""
    return {
        "enabled": True,
        "app_secret": META_SECRET,
        "verify_token": META_VERIFY,
        "access_token": META_TOKEN,
        "api_base_url": fake_graph.base_url,
        "page_id": DEFAULT_PAGE_ID,
        "instagram_account_id": DEFAULT_INSTAGRAM_ID,
        "whatsapp_phone_number_id": DEFAULT_PHONE_NUMBER_ID,
        **extra,
    }


def channels_config(
    fake_telegram: FakeTelegramAPI,
    fake_twilio: FakeTwilioAPI,
    fake_graph: FakeGraphAPI | None = None,
    **twilio_extra: Any,
) -> dict[str, Any]:
    """Settings overrides turning Telegram, Twilio and (given its fake) Meta on against the fake APIs."""
    meta = {"meta": meta_config(fake_graph)} if fake_graph is not None else {}
    return {
        "channels": {
            "telegram": {
                "enabled": True,
                "token": DEFAULT_TOKEN,
                "webhook_secret": TG_SECRET,
                "api_base_url": fake_telegram.base_url,
            },
            "twilio": {
                "enabled": True,
                "account_sid": DEFAULT_SID,
                "auth_token": TWILIO_TOKEN,
                "whatsapp_from": WHATSAPP_FROM,
                "sms_from": SMS_FROM,
                "api_base_url": fake_twilio.base_url,
                "public_url": "https://bot.example.com",
                **twilio_extra,
            },
            **meta,
        }
    }


@pytest.fixture
def app_services(make_settings, redis_client, sql_engine, redis_url, fake_telegram, fake_twilio, fake_graph):
    """The web app with every channel on (fake APIs), and its services; connectors closed after."""
    from bots.runtime import close_connectors
    from bots.services import Services
    from bots.web import create_app

    settings = make_settings(channels_config(fake_telegram, fake_twilio, fake_graph))
    services = Services(settings, redis_client, sql_engine, redis_url)
    yield create_app(settings, services), services
    close_connectors(services.connectors or {})

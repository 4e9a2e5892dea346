"""Fixtures of the connector tests: fake channel APIs on 127.0.0.1 and connectors pointed at them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis

from connectors._ratelimit import Rate
from connectors.base import WebhookRequest
from connectors.telegram import SECRET_HEADER, TelegramConnector
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegramAPI

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
        DEFAULT_TOKEN, TG_SECRET, redis_client, "test",
        api_base_url=fake_telegram.base_url, per_chat=Rate(100), overall=Rate(1000), timeout=5,
    )
    yield conn
    conn.close()

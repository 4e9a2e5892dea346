"""Fixtures of the pipeline tests: fast pipeline settings, a fake channel, services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bots.services import Services
from bots.settings import Settings

from .fake_channel import FakeChannelServer, FakeConnector

FAST = {
    "shards": 4,
    "claim_idle_ms": 300,
    "lease_ms": 300,
    "send_backoff_initial": 0.001,
    "send_backoff_max": 0.01,
    "idle_poll_ms": 5,
}


@pytest.fixture
def pipeline_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**pipeline: Any) -> Settings:
        return make_settings({"pipeline": {**FAST, **pipeline}})

    return make


@pytest.fixture
def services(pipeline_settings, redis_client, sql_engine, redis_url) -> Services:
    return Services(settings=pipeline_settings(), redis=redis_client, engine=sql_engine, redis_url=redis_url)


@pytest.fixture
def fake_channel() -> Iterator[FakeChannelServer]:
    server = FakeChannelServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_connector(fake_channel: FakeChannelServer) -> FakeConnector:
    return FakeConnector(fake_channel.url)

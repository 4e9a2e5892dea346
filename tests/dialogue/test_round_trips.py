"""A turn costs 2 Redis round trips (lock+load, save+release+publish)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from redis.connection import Connection, UnixDomainSocketConnection

from bots.dialogue.runtime import build_runtime
from bots.services import Services

from .conftest import inbound
from .rules_nlu import RulesNLU

pytestmark = pytest.mark.integration


class _Count:
    n = 0
    lock = threading.Lock()


def _counting(base: type) -> type:
    class Counting(base):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            with _Count.lock:
                _Count.n += 1
            super().send_packed_command(command, check_health)

    return Counting


def test_each_turn_takes_two_round_trips(airline_settings, sql_engine, redis_client, redis_url: str) -> None:
    base = UnixDomainSocketConnection if redis_url.startswith("unix") else Connection
    client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(redis_url, connection_class=_counting(base)))
    rt = build_runtime(Services(airline_settings(), client, sql_engine, redis_url), nlu=RulesNLU())
    rt.handle(inbound("hello", conv="test:rt", message_id="warm"))  # loads the Lua scripts
    counts = []
    for i, text in enumerate(["change my seat on X7K9QZ", "15C", "what's the baggage allowance?", "yes", "bye"]):
        before = _Count.n
        rt.handle(inbound(text, conv="test:rt", message_id=f"t{i}"))
        counts.append(_Count.n - before)
    assert counts == [2] * 5
    client.close()

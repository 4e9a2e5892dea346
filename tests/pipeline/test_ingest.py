"""Ingest: dedupe on channel + message id, one stream entry per message, backpressure."""

from __future__ import annotations

import json

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bots.errors import StoreUnavailable
from bots.pipeline import Ingest, QueueFull, keys_for
from connectors.base import Inbound


def msg(i: int | str, conv: str = "c1", text: str = "hi") -> Inbound:
    return Inbound(channel="fake", sender_id=conv, conversation_id=f"fake:{conv}", message_id=str(i), text=text)


def backlog(client, settings) -> int:
    return sum(client.xlen(s) for s in keys_for(settings).all_streams())


def test_same_message_three_times_makes_one_stream_entry(redis_client, pipeline_settings) -> None:
    settings = pipeline_settings()
    ingest = Ingest(redis_client, settings)
    assert [ingest.accept([msg(1)]) for _ in range(3)] == [1, 0, 0]
    assert backlog(redis_client, settings) == 1


def test_a_conversation_always_lands_on_one_shard_in_order(redis_client, pipeline_settings) -> None:
    settings = pipeline_settings()
    ingest = Ingest(redis_client, settings)
    ingest.accept([msg(i, text=f"t{i}") for i in range(5)])
    keys = keys_for(settings)
    rows = redis_client.xrange(keys.stream(keys.shard_of("fake:c1")))
    assert [Inbound.from_dict(json.loads(r[1][b"m"])).text for r in rows] == [f"t{i}" for i in range(5)]


def test_full_shard_refuses_and_forgets_the_message_so_a_retry_is_accepted(redis_client, pipeline_settings) -> None:
    settings = pipeline_settings(stream_maxlen=100, shards=50)  # 2 per shard
    ingest = Ingest(redis_client, settings)
    ingest.accept([msg(1), msg(2)])
    with pytest.raises(QueueFull, match=r"shard .* holds 2 unprocessed"):
        ingest.accept([msg(3)])
    keys = keys_for(settings)
    redis_client.xtrim(keys.stream(keys.shard_of("fake:c1")), maxlen=0)  # workers caught up
    assert ingest.accept([msg(3)]) == 1


def test_redis_down_raises_store_unavailable(pipeline_settings) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    with pytest.raises(StoreUnavailable, match=r"cannot enqueue fake message '1'.*127.0.0.1:1"):
        Ingest(dead, pipeline_settings()).accept([msg(1)])

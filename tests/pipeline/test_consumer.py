"""Shard leases: fair share across live workers, one holder per shard, takeover when a worker leaves."""

from __future__ import annotations

import pytest

from bots.pipeline import Keys
from bots.pipeline.consumer import ShardConsumer

pytestmark = pytest.mark.integration


def consumer(redis_client, name: str, shards: int = 4) -> ShardConsumer:
    c = ShardConsumer(redis_client, Keys("bb", shards), name, lease_ms=5000, claim_idle_ms=5000)
    c.ensure_groups()
    return c


def step(*cs: ShardConsumer) -> None:
    for c in cs:
        c.heartbeat()
    for c in cs:
        c.rebalance()
        assert c.poll() == []  # empty queue: every held shard checked for pending entries, now clean


def test_shards_are_shared_fairly_and_taken_over_when_a_worker_leaves(redis_client) -> None:
    a = consumer(redis_client, "a")
    step(a)
    assert sorted(a.held) == [0, 1, 2, 3]
    b = consumer(redis_client, "b")
    step(a, b)  # a gives up its extra shards; b takes them on its next rebalance
    step(a, b)
    assert len(a.held) == len(b.held) == 2
    assert set(a.held).isdisjoint(b.held)
    for s in range(4):
        holder = redis_client.get(Keys("bb", 4).lease(s)).decode()
        assert holder in ("a", "b") and s in (a.held if holder == "a" else b.held)
    a.release_all()
    step(b)
    assert sorted(b.held) == [0, 1, 2, 3]


def test_a_lost_lease_is_noticed_and_dropped(redis_client) -> None:
    a = consumer(redis_client, "a", shards=2)
    step(a)
    redis_client.set(Keys("bb", 2).lease(0), "intruder")
    a.heartbeat()
    assert not a.holds(0) and a.holds(1)
    a.rebalance()
    assert sorted(a.held) == [1]

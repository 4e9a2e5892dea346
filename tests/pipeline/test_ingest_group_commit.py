"""Group commit of ingest: concurrent callers share one pipelined round trip, each gets its own result."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bots.errors import StoreUnavailable
from bots.pipeline import Ingest, QueueFull, keys_for
from bots.pipeline.batching import GroupCommit
from bots.stores.redis_client import EmbeddedRedis, free_port
from connectors.base import Inbound


def msg(i: int | str, conv: str = "c1") -> Inbound:
    return Inbound(channel="fake", sender_id=conv, conversation_id=f"fake:{conv}", message_id=str(i), text=f"t{i}")


def accept_later(ingest: Ingest, i: int | str, conv: str) -> Callable[[], int]:
    """A call that enqueues message ``i`` of ``conv`` when it runs (in its own thread)."""
    return lambda: ingest.accept([msg(i, conv)])


def run_threads(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released at once; each slot holds a result or the exception raised."""
    out: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def body(i: int) -> None:
        start.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            out[i] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "a caller hung"
    return out


def hold_first_batch(batcher: GroupCommit[Any, Any] | None, waiting: int) -> None:
    """The first round trip waits until ``waiting`` other callers have queued, so they all go in the second one."""
    assert batcher is not None, "group commit is on"
    real = batcher._send_batch
    first = threading.Event()

    def send(items):
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 5
            while len(batcher._queue) < waiting and time.monotonic() < deadline:
                time.sleep(0.001)
        return real(items)

    batcher._send_batch = send


def entries(client, settings) -> list[Inbound]:
    return [
        Inbound.from_dict(json.loads(f[b"m"])) for s in keys_for(settings).all_streams() for _, f in client.xrange(s)
    ]


# -- the batcher alone ---------------------------------------------------------------------------------------------


def test_a_lone_call_is_sent_at_once_in_its_own_batch() -> None:
    batcher: GroupCommit[int, int] = GroupCommit(lambda items: [x * 10 for x in items])
    assert [batcher.submit(i) for i in range(3)] == [0, 10, 20]
    assert batcher.batches == 3


def test_callers_queued_behind_a_batch_in_flight_go_together_and_get_their_own_results() -> None:
    sizes: list[int] = []

    def send(items):
        sizes.append(len(items))
        return [ValueError(f"bad {x}") if x % 5 == 0 else x * 10 for x in items]

    batcher = GroupCommit(send)
    hold_first_batch(batcher, 15)
    out = run_threads([partial(batcher.submit, i) for i in range(16)])
    for i, r in enumerate(out):
        if i % 5 == 0:
            assert isinstance(r, ValueError) and str(r) == f"bad {i}"
        else:
            assert r == i * 10
    assert sorted(sizes) == [1, 15] and batcher.batches == 2


def test_a_failing_batch_fails_each_of_its_callers_and_the_next_call_works() -> None:
    down = threading.Event()
    down.set()

    def send(items):
        if down.is_set():
            raise redis.ConnectionError("connection refused")
        return list(items)

    batcher = GroupCommit(send)
    hold_first_batch(batcher, 7)
    out = run_threads([partial(batcher.submit, i) for i in range(8)])
    assert all(isinstance(r, redis.ConnectionError) for r in out)
    down.clear()
    assert batcher.submit(42) == 42


# -- Ingest on a real Redis ----------------------------------------------------------------------------------------


def test_concurrent_callers_enqueue_each_message_once_and_see_their_own_duplicates(
    redis_client, pipeline_settings
) -> None:
    settings = pipeline_settings()
    ingest = Ingest(redis_client, settings)
    assert ingest.accept([msg("seen", "c0")]) == 1
    # 24 callers: messages 0..11 each delivered by two callers at once, plus one already seen before
    calls = [accept_later(ingest, i % 12, f"c{i % 12 % 5}") for i in range(24)]
    calls.append(accept_later(ingest, "seen", "c0"))
    hold_first_batch(ingest._batcher, 24)
    out = run_threads(calls)
    assert out[-1] == 0, "the message seen before is a duplicate for its caller"
    for m in range(12):
        assert sorted([out[m], out[m + 12]]) == [0, 1], f"message {m}: exactly one caller enqueued it"
    got = entries(redis_client, settings)
    assert Counter(e.message_id for e in got) == Counter({**{str(m): 1 for m in range(12)}, "seen": 1})
    assert all(
        e.text == f"t{e.message_id}" and e.conversation_id == f"fake:c{int(e.message_id) % 5}"
        for e in got
        if e.message_id != "seen"
    )
    assert ingest._batcher.batches == 3, "the 24 callers queued behind the first went in one round trip"


def test_a_full_shard_refuses_only_its_own_messages_in_a_shared_batch(redis_client, pipeline_settings) -> None:
    settings = pipeline_settings(stream_maxlen=100, shards=50)  # 2 per shard
    ingest = Ingest(redis_client, settings)
    keys = keys_for(settings)
    full_conv = "c1"
    others = [c for c in (f"o{i}" for i in range(200)) if keys.shard_of(f"fake:{c}") != keys.shard_of("fake:c1")][:6]
    ingest.accept([msg("a", full_conv), msg("b", full_conv)])
    calls = [accept_later(ingest, f"f{i}", full_conv) for i in range(4)]
    calls += [accept_later(ingest, f"x{c}", c) for c in others]
    hold_first_batch(ingest._batcher, len(calls) - 1)
    out = run_threads(calls)
    assert all(isinstance(r, QueueFull) for r in out[:4]), out[:4]
    assert out[4:] == [1] * len(others)
    assert sorted(e.message_id for e in entries(redis_client, settings)) == sorted(
        ["a", "b"] + [f"x{c}" for c in others]
    )
    redis_client.xtrim(keys.stream(keys.shard_of("fake:c1")), maxlen=0)  # workers caught up: the refused are not "seen"
    assert ingest.accept([msg("f0", full_conv)]) == 1


def test_redis_down_fails_every_waiter_and_a_later_call_works_once_it_is_back(pipeline_settings, tmp_path) -> None:
    port = free_port()
    client = redis.Redis(
        host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )
    settings = pipeline_settings()
    ingest = Ingest(client, settings)
    hold_first_batch(ingest._batcher, 9)
    out = run_threads([accept_later(ingest, i, f"c{i}") for i in range(10)])
    for i, r in enumerate(out):
        assert isinstance(r, StoreUnavailable) and not isinstance(r, QueueFull), r
        assert f"message '{i}'" in str(r) and f"127.0.0.1:{port}" in str(r)
    assert ingest._batcher.batches == 2
    server = EmbeddedRedis(tmp_path / "redis", port=port, persist=False).start()
    try:
        out = run_threads([accept_later(ingest, i, f"c{i}") for i in range(10)])
        assert out == [1] * 10
        assert sorted(int(e.message_id) for e in entries(client, settings)) == list(range(10))
    finally:
        server.stop()


def test_scripts_flushed_from_redis_are_reloaded_in_a_batch(redis_client, pipeline_settings) -> None:
    ingest = Ingest(redis_client, pipeline_settings())
    assert ingest.accept([msg(1)]) == 1
    redis_client.script_flush()
    out = run_threads([accept_later(ingest, i, f"c{i}") for i in range(2, 8)])
    assert out == [1] * 6
    assert ingest.accept([msg(1)]) == 0


def test_a_call_with_several_messages_stops_at_the_first_refused(redis_client, pipeline_settings) -> None:
    settings = pipeline_settings(stream_maxlen=100, shards=50)
    ingest = Ingest(redis_client, settings)
    with pytest.raises(QueueFull):
        ingest.accept([msg(1), msg(2), msg(3), msg(4, "other")])
    assert sorted(e.message_id for e in entries(redis_client, settings)) == ["1", "2"]

"""LiveHub on a real Redis: fan-out across hubs, resync after a killed connection, bounded queues."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from bots.web.live import LiveHub, SseEvent, format_event, sse_response

pytestmark = pytest.mark.integration


@pytest.fixture
def channel() -> str:
    """A channel of this test's own (pub/sub ignores database indexes: other runs share the server)."""
    return f"t{uuid.uuid4().hex[:12]}:live"


@pytest.fixture
def make_hub(redis_url: str) -> Iterator[Callable[..., LiveHub]]:
    hubs: list[LiveHub] = []

    def make(channel: str, name: str = "", **kw: Any) -> LiveHub:
        def factory() -> redis.Redis:
            return redis.Redis.from_url(redis_url, client_name=name or None, socket_timeout=10)

        hub = LiveHub(factory, channel, poll_seconds=0.2, backoff=(0.05, 0.5), **kw)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.stop()


def publish(client: redis.Redis, channel: str, event: dict[str, Any]) -> None:
    client.publish(channel, json.dumps(event))


def next_not_resync(sub, timeout: float = 3.0) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = sub.get(timeout=0.2)
        if event is not None and event["type"] != "resync":
            return event
    return None


def test_two_hubs_both_receive_and_filter_by_match(make_hub, channel: str, redis_client) -> None:
    a, b = make_hub(channel), make_hub(channel)
    sub_a = a.subscribe(lambda e: e.get("conversation_id") == "c1")
    sub_b = b.subscribe(lambda e: True)
    sub_other = a.subscribe(lambda e: e.get("conversation_id") == "c2")
    assert a.wait_connected(5) and b.wait_connected(5)
    publish(redis_client, channel, {"type": "message", "conversation_id": "c1", "text": "hi"})
    assert next_not_resync(sub_a) == {"type": "message", "conversation_id": "c1", "text": "hi"}
    assert next_not_resync(sub_b)["text"] == "hi"
    assert next_not_resync(sub_other, timeout=0.5) is None
    sub_a.close()
    assert a.subscriptions == 1


def test_a_subscription_made_before_the_hub_connects_gets_a_resync(make_hub, channel: str) -> None:
    hub = make_hub(channel)
    sub = hub.subscribe(lambda e: True)  # starts the hub
    assert sub.get(timeout=5) == {"type": "resync"}


def test_a_killed_connection_reconnects_and_resyncs(make_hub, channel: str, redis_client) -> None:
    name = f"hub{uuid.uuid4().hex[:8]}"
    hub = make_hub(channel, name=name)
    sub = hub.subscribe(lambda e: True)
    assert sub.get(timeout=5) == {"type": "resync"}  # first connection
    [conn] = [c for c in redis_client.client_list() if c.get("name") == name]
    redis_client.client_kill_filter(_id=conn["id"])
    assert sub.get(timeout=5) == {"type": "resync"}
    assert hub.connections == 2
    publish(redis_client, channel, {"type": "note", "text": "after"})
    assert next_not_resync(sub)["text"] == "after"


def test_a_full_queue_drops_its_backlog_and_resyncs(make_hub, channel: str, redis_client) -> None:
    hub = make_hub(channel, queue_size=4)
    slow = hub.subscribe(lambda e: True)
    assert slow.get(timeout=5) == {"type": "resync"}
    for i in range(10):
        publish(redis_client, channel, {"type": "message", "n": i})
    deadline = time.monotonic() + 5
    while hub.events_received < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    got = []
    while (event := slow.get(timeout=0.3)) is not None:
        got.append(event)
    assert len(got) <= 4 and {"type": "resync"} in got
    assert slow.dropped >= 6
    # the newest events after the resync still arrive
    assert got[-1]["n"] == 9 or got[-1] == {"type": "resync"}


def test_a_failing_predicate_does_not_stop_the_fan_out(make_hub, channel: str) -> None:
    hub = make_hub(channel)
    hub.subscribe(lambda e: e["missing"])
    good = hub.subscribe(lambda e: True)
    assert hub.dispatch({"type": "message"}) == 1
    assert good.get(timeout=1) == {"type": "message"}


def test_sse_wire_format() -> None:
    assert format_event(SseEvent("a\nb", event="message", id="1-0")) == "id: 1-0\nevent: message\ndata: a\ndata: b\n\n"
    assert format_event(SseEvent("x")) == "data: x\n\n"


def test_sse_response_heartbeats_and_ends_after_its_time() -> None:
    now = [0.0]
    beats = []
    closed = []

    def events() -> Iterator[SseEvent | None]:
        try:
            yield SseEvent("first", id="1-1")
            while True:
                now[0] += 6
                yield None
        finally:
            closed.append(True)

    response = sse_response(
        events(),
        heartbeat_seconds=10,
        max_seconds=30,
        retry_ms=1500,
        on_heartbeat=lambda: beats.append(now[0]),
        clock=lambda: now[0],
    )
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Accel-Buffering"] == "no"
    body = response.get_data(as_text=True)
    assert body.startswith("retry: 1500\n")
    assert "id: 1-1\ndata: first\n\n" in body
    assert body.count(": heartbeat\n\n") == 2 and beats == [12.0, 24.0]
    assert closed == [True]

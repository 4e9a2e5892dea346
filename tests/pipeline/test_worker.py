"""Workers: exactly one reply per inbound, ack after effects, order per conversation, retries, DLQ."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import pytest
import redis
from sqlalchemy import select

from bots.errors import StoreUnavailable
from bots.pipeline import GROUP, DeadLetters, Deliverer, Ingest, Worker, keys_for, start_embedded_workers
from bots.pipeline.turn import TurnResult
from bots.stores.models import deliveries
from connectors.base import Inbound, Outbound

from .fake_channel import FakeChannelServer, FakeConnector, echo_handler

pytestmark = pytest.mark.integration


def msg(i: int | str, conv: str = "c1", text: str | None = None) -> Inbound:
    return Inbound(
        channel="fake", sender_id=conv, conversation_id=f"fake:{conv}", message_id=str(i), text=text or f"m{i}"
    )


def drain(*workers: Worker, rounds: int = 500) -> None:
    """Run rounds until no worker finds anything for a few rounds in a row."""
    quiet = 0
    for _ in range(rounds):
        n = sum(w.run_once() for w in workers)
        quiet = quiet + 1 if n == 0 else 0
        if quiet >= 3:
            return
    raise AssertionError("queue did not drain")


def make_worker(services, connector, handler=echo_handler, name=None) -> Worker:
    return Worker(
        services.redis, services.engine, services.settings, handler, {connector.channel: connector}, name=name
    )


def test_same_webhook_three_times_gets_one_reply(services, fake_channel, fake_connector) -> None:
    ingest = Ingest(services.redis, services.settings)
    for _ in range(3):
        ingest.accept([msg(42)])
    drain(make_worker(services, fake_connector))
    assert fake_channel.keys() == ["fake:42:0"]
    print("\ndedupe: 3 webhooks -> 1 entry -> replies:", len(fake_channel.keys()))


def test_entry_is_acked_only_after_the_reply_is_recorded(services, fake_channel, fake_connector) -> None:
    settings = services.settings
    keys = keys_for(settings)
    stream = keys.stream(keys.shard_of("fake:c1"))
    seen: dict[str, object] = {}

    def handler(inbound: Inbound) -> TurnResult:
        # mid-turn: the entry is read but still pending and still in the stream
        seen["pending"] = services.redis.xpending(stream, GROUP)["pending"]
        seen["len"] = services.redis.xlen(stream)
        return echo_handler(inbound)

    Ingest(services.redis, settings).accept([msg(1)])
    drain(make_worker(services, fake_connector, handler))
    assert seen == {"pending": 1, "len": 1}
    assert services.redis.xpending(stream, GROUP)["pending"] == 0
    assert services.redis.xlen(stream) == 0
    with services.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.idempotency_key, deliveries.c.status, deliveries.c.provider_id)).all()
    assert [tuple(r) for r in rows] == [("fake:1:0", "sent", "F1")]


def test_store_error_mid_turn_leaves_message_pending_and_redo_sends_once(
    services, fake_channel, fake_connector
) -> None:
    """Redis fails after the first of two replies went out: not acked; the redo sends only the second."""
    failed = {"done": False}

    class DiesOnSecondReply:
        channel = "fake"
        rules = fake_connector.rules

        def parse(self, request):
            return fake_connector.parse(request)

        def send(self, message: Outbound) -> str:
            if message.text == "b" and not failed["done"]:
                failed["done"] = True
                raise redis.ConnectionError("simulated Redis outage mid-turn")
            return fake_connector.send(message)

    def handler(inbound: Inbound) -> TurnResult:
        return TurnResult([Outbound("fake", inbound.sender_id, "a"), Outbound("fake", inbound.sender_id, "b")])

    Ingest(services.redis, services.settings).accept([msg(1)])
    w = make_worker(services, DiesOnSecondReply(), handler)
    w.turns.stores_answer = lambda: False  # the simulated outage: the stores' probe fails too
    with pytest.raises(redis.ConnectionError):
        for _ in range(10):
            w.run_once()
    keys = keys_for(services.settings)
    assert services.redis.xpending(keys.stream(keys.shard_of("fake:c1")), GROUP)["pending"] == 1
    assert fake_channel.keys() == ["fake:1:0"]
    w.consumer.mark_recovering()
    drain(w)
    assert fake_channel.keys() == ["fake:1:0", "fake:1:1"]
    assert services.redis.xpending(keys.stream(keys.shard_of("fake:c1")), GROUP)["pending"] == 0


def test_order_per_conversation_with_three_workers(services, fake_channel, fake_connector) -> None:
    active: set[str] = set()
    handled: dict[str, list[int]] = defaultdict(list)
    overlaps: list[str] = []
    lock = threading.Lock()
    rnd = random.Random(3)

    def handler(inbound: Inbound) -> TurnResult:
        with lock:
            if inbound.conversation_id in active:
                overlaps.append(inbound.conversation_id)
            active.add(inbound.conversation_id)
        time.sleep(rnd.random() * 0.004)
        with lock:
            handled[inbound.conversation_id].append(int(inbound.text))
            active.discard(inbound.conversation_id)
        return echo_handler(inbound)

    convs, per = 12, 15
    ingest = Ingest(services.redis, services.settings)
    for seq in range(per):
        ingest.accept([msg(f"{c}-{seq}", conv=f"c{c}", text=str(seq)) for c in range(convs)])
    handle = start_embedded_workers(services, handler, {"fake": fake_connector}, 3)
    try:
        deadline = time.monotonic() + 30
        while len(fake_channel.keys()) < convs * per and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        handle.stop()
    busy = [w.processed for w in handle.workers]
    assert overlaps == []
    assert {c: seqs for c, seqs in handled.items()} == {f"fake:c{c}": list(range(per)) for c in range(convs)}
    assert sorted(fake_channel.keys()) == sorted(f"fake:{c}-{s}:0" for c in range(convs) for s in range(per))
    assert sum(1 for n in busy if n > 0) >= 2, f"work was not spread: {busy}"
    print(f"\nordering: {convs * per} messages, turns per worker {busy}, overlaps 0, out of order 0")


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried_then_dead_lettered(services, status) -> None:
    server = FakeChannelServer(fail_rate=1.0, fail_status=status).start()
    try:
        conn = FakeConnector(server.url)
        Ingest(services.redis, services.settings).accept([msg(1)])
        waits: list[float] = []
        w = Worker(services.redis, services.engine, services.settings, echo_handler, {"fake": conn}, sleep=waits.append)
        drain(w)
        assert server.attempts == services.settings.pipeline.send_max_attempts == 5
        assert len(waits) == 4 and all(x <= services.settings.pipeline.send_backoff_max for x in waits)
        letters = DeadLetters(services.redis, keys_for(services.settings)).list()
        assert [(d.kind, d.attempts, d.outbound().idempotency_key) for d in letters] == [("send", 5, "fake:1:0")]
        assert "TransientSendError" in letters[0].error
        with services.engine.connect() as c:
            assert c.execute(select(deliveries.c.status)).scalar_one() == "dead"
        # the channel recovers; the operator retries the dead letter; one reply, DLQ empty
        server.fail_rate = 0.0
        res = DeadLetters(services.redis, keys_for(services.settings)).retry(
            letters[0].id, lambda ob: w.deliverer.deliver(ob, force=True), lambda ib: ""
        )
        assert res.ok and len(server.sent) == 1
        assert DeadLetters(services.redis, keys_for(services.settings)).list() == []
        assert w.deliverer.deliver(letters[0].outbound(), force=True) == "duplicate"
    finally:
        server.stop()


def test_backoff_grows_and_honours_retry_after(pipeline_settings) -> None:
    from bots.pipeline.retry import RetryPolicy
    from connectors.errors import TransientSendError

    waits: list[float] = []
    policy = RetryPolicy(4, initial=1.0, maximum=100.0, sleep=waits.append)
    errors = iter([TransientSendError("x", retry_after=7), TransientSendError("x"), TransientSendError("x")])

    def send() -> str:
        err = next(errors, None)
        if err:
            raise err
        return "ok"

    assert policy.call(send) == "ok"
    assert waits[0] == 7  # the channel's Retry-After
    assert 0 <= waits[1] <= 2 and 0 <= waits[2] <= 4  # full jitter under 1*2^n


def test_permanent_error_is_not_retried(services) -> None:
    server = FakeChannelServer(permanent_to=("c1",)).start()
    try:
        Ingest(services.redis, services.settings).accept([msg(1), msg(2, conv="c2")])
        waits: list[float] = []
        w = Worker(
            services.redis,
            services.engine,
            services.settings,
            echo_handler,
            {"fake": FakeConnector(server.url)},
            sleep=waits.append,
        )
        drain(w)
        assert server.attempts == 2 and waits == []
        assert [m["key"] for m in server.sent] == ["fake:2:0"]
        letters = DeadLetters(services.redis, keys_for(services.settings)).list()
        assert [(d.attempts, d.conversation_id) for d in letters] == [(1, "fake:c1")]
        assert "PermanentSendError" in letters[0].error
    finally:
        server.stop()


def test_channel_failing_20_percent_still_gives_exactly_one_reply_each(
    pipeline_settings, redis_client, sql_engine, redis_url
) -> None:
    from bots.services import Services

    services = Services(pipeline_settings(send_max_attempts=12), redis_client, sql_engine, redis_url)
    server = FakeChannelServer(fail_rate=0.2, seed=11).start()
    try:
        n = 200
        ingest = Ingest(services.redis, services.settings)
        for i in range(n):
            ingest.accept([msg(i, conv=f"c{i % 17}")])
        handle = start_embedded_workers(services, echo_handler, {"fake": FakeConnector(server.url)}, 2)
        deadline = time.monotonic() + 30
        while len(server.sent) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        handle.stop()
        keys = [m["key"] for m in server.sent]
        assert sorted(keys) == sorted(f"fake:{i}:0" for i in range(n))
        assert DeadLetters(services.redis, keys_for(services.settings)).count() == 0
        print(
            f"\n20% failing channel: {n} inbound, {server.attempts} attempts, {server.failures} failed, "
            f"{len(keys)} replies, duplicates 0"
        )
    finally:
        server.stop()


def test_poison_message_is_apologised_for_dead_lettered_with_its_traceback_and_moves_on(
    services, fake_channel, fake_connector
) -> None:
    def handler(inbound: Inbound) -> TurnResult:
        if inbound.text == "boom":
            raise RuntimeError("dialogue bug")
        return echo_handler(inbound)

    Ingest(services.redis, services.settings).accept([msg(1, text="boom"), msg(2, text="ok")])
    w = Worker(
        services.redis, services.engine, services.settings, handler, {"fake": fake_connector}, sleep=lambda s: None
    )
    drain(w)
    # the customer is told once (built-in text: no domain here), the other conversation goes on
    assert sorted(fake_channel.keys()) == ["fake:1:turn-failed", "fake:2:0"]
    [apology] = [s for s in fake_channel.sent if s["key"] == "fake:1:turn-failed"]
    assert apology["text"].startswith("Sorry, something went wrong on our side")
    dl = DeadLetters(services.redis, keys_for(services.settings))
    [letter] = dl.list()
    assert letter.kind == "turn" and letter.error == "RuntimeError: dialogue bug" and letter.attempts == 3
    assert "Traceback (most recent call last)" in letter.traceback and 'raise RuntimeError("dialogue bug")' in (
        letter.traceback
    )
    ingest = Ingest(services.redis, services.settings)
    w.turns.handler = echo_handler
    assert dl.retry(letter.id, w.deliverer.deliver, ingest.requeue).ok
    drain(w)
    assert sorted(fake_channel.keys()) == ["fake:1:0", "fake:1:turn-failed", "fake:2:0"]


def test_a_store_error_while_the_stores_answer_is_the_message_s_fault_not_an_outage(
    services, fake_channel, fake_connector
) -> None:
    """A StoreUnavailable raised for one message while Redis and SQL answer: dead-lettered after
    its tries like any failing turn, never left pending for the redelivery cycle."""

    def handler(inbound: Inbound) -> TurnResult:
        if inbound.text == "poison":
            raise StoreUnavailable("the database refused this row")
        return echo_handler(inbound)

    Ingest(services.redis, services.settings).accept([msg(1, text="poison"), msg(2, text="ok")])
    w = Worker(
        services.redis, services.engine, services.settings, handler, {"fake": fake_connector}, sleep=lambda s: None
    )
    drain(w)
    assert sorted(fake_channel.keys()) == ["fake:1:turn-failed", "fake:2:0"]
    [letter] = DeadLetters(services.redis, keys_for(services.settings)).list()
    assert letter.error == "StoreUnavailable: the database refused this row" and letter.attempts == 3


def test_a_message_the_workers_never_finish_is_dead_lettered_with_an_apology(
    services, fake_channel, fake_connector
) -> None:
    """Read max_deliveries times and never acknowledged (each worker on it died): given up, the
    customer told, the reason saying what happened."""
    settings = services.settings
    Ingest(services.redis, settings).accept([msg(1, text="kills workers")])
    w = make_worker(services, fake_connector)
    w.consumer.ensure_groups()
    w.consumer.rebalance()
    entries: list = []
    while not entries:  # the first round only looks for this worker's own pending entries
        entries = w.consumer.poll()
    [entry] = entries
    entry.deliveries = settings.pipeline.max_deliveries + 1
    w.process(entry)
    assert fake_channel.keys() == ["fake:1:turn-failed"]
    [letter] = DeadLetters(services.redis, keys_for(settings)).list()
    assert "never finished" in letter.error and letter.attempts == settings.pipeline.max_deliveries


def test_stop_finishes_the_current_turn_acks_and_exits(services, fake_channel, fake_connector) -> None:
    started, release = threading.Event(), threading.Event()

    def handler(inbound: Inbound) -> TurnResult:
        started.set()
        release.wait(5)
        return echo_handler(inbound)

    Ingest(services.redis, services.settings).accept([msg(1)])
    handle = start_embedded_workers(services, handler, {"fake": fake_connector}, 1)
    assert started.wait(5)
    handle.workers[0].stop()
    time.sleep(0.1)
    assert handle.alive == 1  # still finishing the turn
    release.set()
    handle.stop(timeout=5)
    assert handle.alive == 0
    assert fake_channel.keys() == ["fake:1:0"]
    keys = keys_for(services.settings)
    assert services.redis.xpending(keys.stream(keys.shard_of("fake:c1")), GROUP)["pending"] == 0
    assert all(services.redis.get(keys.lease(s)) is None for s in range(keys.shards))


def test_turn_results_with_a_handoff_event_are_counted(services, fake_channel, fake_connector) -> None:
    from bots.pipeline import metrics

    def handler(inbound: Inbound) -> TurnResult:
        return TurnResult(echo_handler(inbound).outbounds, [{"type": "handoff_requested"}])

    before = metrics.HANDOFFS.labels("fake")._value.get()
    Ingest(services.redis, services.settings).accept([msg(1)])
    drain(make_worker(services, fake_connector, handler))
    assert metrics.HANDOFFS.labels("fake")._value.get() == before + 1
    assert fake_channel.keys() == ["fake:1:0"]


def test_a_reply_whose_delivery_raises_a_bug_is_dead_lettered_and_the_next_reply_still_goes(
    services, fake_channel, fake_connector
) -> None:
    """An error out of the Deliverer that is not an outage belongs to that reply: dead-lettered
    (kind send, with the traceback), the turn's other replies sent, the message acknowledged."""

    class RefusesFirst(Deliverer):
        def deliver(self, ob: Outbound, *, force: bool = False, enqueued_at: float | None = None) -> str:
            if ob.text == "first":
                raise ValueError("a row the store refuses")
            return super().deliver(ob, force=force, enqueued_at=enqueued_at)

    def two_replies(ib: Inbound) -> TurnResult:
        return TurnResult([Outbound("fake", ib.sender_id, "first"), Outbound("fake", ib.sender_id, "second")])

    w = make_worker(services, fake_connector, handler=two_replies)
    w.turns.deliverer = RefusesFirst(**vars(w.deliverer))
    Ingest(services.redis, services.settings).accept([msg(1)])
    drain(w)
    assert fake_channel.keys() == ["fake:1:1"]
    [letter] = DeadLetters(services.redis, keys_for(services.settings)).list()
    assert letter.kind == "send" and letter.error == "ValueError: a row the store refuses" and letter.traceback

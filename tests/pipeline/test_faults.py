"""Faults with real processes: kill -9 a worker mid-turn, SIGTERM, Redis restarted under load."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import defaultdict
from urllib.parse import urlencode

import pytest
import redis

from bots.pipeline import GROUP, Ingest, keys_for, start_embedded_workers
from bots.services import Services
from bots.stores.redis_client import EmbeddedRedis, free_port, make_redis
from bots.web.app import create_app
from connectors.base import Inbound

from .fake_channel import FakeChannelServer, FakeConnector, echo_handler
from .procs import start_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def msg(i: int, conv: str) -> Inbound:
    return Inbound(channel="fake", sender_id=conv, conversation_id=f"fake:{conv}", message_id=str(i), text=str(i))


def pending(client, settings) -> int:
    total = 0
    for stream in keys_for(settings).all_streams():
        with contextlib.suppress(redis.ResponseError):  # no group yet: no worker started
            total += client.xpending(stream, GROUP)["pending"]
    return total


def in_order_per_conversation(sent: list[dict]) -> bool:
    by_to: dict[str, list[int]] = defaultdict(list)
    for m in sorted(sent, key=lambda m: m["t"]):
        by_to[m["to"]].append(int(m["text"].split(": ")[1]))
    return all(seqs == sorted(seqs) for seqs in by_to.values())


@pytest.fixture
def fast_config(write_config, redis_url, sqlite_url, sql_engine):
    """A config file for worker processes (SQL already migrated by sql_engine)."""
    return write_config(
        {
            "stores": {"redis_url": redis_url, "database_url": sqlite_url},
            "channels": {"webchat": {"enabled": False}},
            "server": {"log_level": "WARNING"},
            "pipeline": {
                "shards": 4,
                "claim_idle_ms": 800,
                "lease_ms": 400,
                "idle_poll_ms": 5,
                "send_backoff_initial": 0.01,
                "send_backoff_max": 0.05,
            },
        },
        name="worker.yaml",
    )


def test_kill_9_mid_turn_then_another_worker_claims_and_replies_exactly_once(
    fast_config, redis_client, make_settings, tmp_path
) -> None:
    settings = make_settings({"pipeline": {"shards": 4}})
    server = FakeChannelServer().start()
    procs = []
    try:
        n, convs = 40, 8
        ingest = Ingest(redis_client, settings)
        for i in range(n):
            ingest.accept([msg(i, f"c{i % convs}")])
        victim = start_worker(fast_config, server.url, delay=0.1, log=tmp_path / "victim.log")
        procs.append(victim)
        wait_for(lambda: len(server.sent) >= 5, 20, "the first worker to send 5 replies")
        time.sleep(0.03)  # inside a turn: the handler sleeps 0.1 s per message
        victim.send_signal(signal.SIGKILL)
        victim.wait(5)
        left = pending(redis_client, settings)
        sent_before = len(server.sent)
        rescuer = start_worker(fast_config, server.url, log=tmp_path / "rescuer.log")
        procs.append(rescuer)
        wait_for(lambda: len(server.sent) >= n, 30, f"all {n} replies")
        time.sleep(0.5)
        keys = server.keys()
        assert sorted(keys) == sorted(f"fake:{i}:0" for i in range(n)), "each inbound exactly one reply"
        assert in_order_per_conversation(server.sent)
        wait_for(lambda: pending(redis_client, settings) == 0, 5, "nothing pending")
        print(
            f"\nkill -9: {n} inbound, {sent_before} replied before the kill, {left} pending at the kill "
            f"(claimed after idle), {len(keys)} replies in all, duplicates {len(keys) - len(set(keys))}"
        )
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.stop()


def test_sigterm_finishes_the_turn_acks_and_exits(fast_config, redis_client, make_settings, tmp_path) -> None:
    settings = make_settings({"pipeline": {"shards": 4}})
    server = FakeChannelServer().start()
    try:
        Ingest(redis_client, settings).accept([msg(i, f"c{i}") for i in range(3)])
        proc = start_worker(fast_config, server.url, delay=0.5, log=tmp_path / "w.log")
        wait_for(lambda: pending(redis_client, settings) >= 1, 20, "a turn to start")
        time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert len(server.sent) >= 1, "the turn in progress finished"
        keys = keys_for(settings)
        assert all(redis_client.get(keys.lease(s)) is None for s in range(4)), "leases released"
        # entries read in the same round but not started are handed back: claimable at once
        for stream in keys.all_streams():
            for p in redis_client.xpending_range(stream, GROUP, "-", "+", 10):
                assert p["time_since_delivered"] >= 800
        again = start_worker(fast_config, server.url, log=tmp_path / "w2.log")
        try:
            wait_for(lambda: len(server.sent) >= 3, 10, "the rest to be answered")
            time.sleep(0.3)
            assert sorted(server.keys()) == ["fake:0:0", "fake:1:0", "fake:2:0"]
        finally:
            again.send_signal(signal.SIGTERM)
            assert again.wait(10) == 0
    finally:
        server.stop()


def test_redis_restart_under_load_loses_nothing(make_settings, sql_engine, tmp_path) -> None:
    """Webhooks get 503 while Redis is down and the sender retries; every message gets exactly one reply."""
    from .test_webhooks import PUBLIC, TOKEN, TwilioLike, signed

    port = free_port()
    server_dir = tmp_path / "redis"
    rds = EmbeddedRedis(server_dir, port=port, persist=True).start()
    fake = FakeChannelServer().start()
    settings = make_settings(
        {
            "stores": {"redis_url": rds.url},
            "channels": {
                "twilio": {
                    "enabled": True,
                    "account_sid": "AC1",
                    "auth_token": TOKEN,
                    "public_url": PUBLIC,
                    "whatsapp_from": "whatsapp:+3120000000",
                }
            },
            "pipeline": {"shards": 4, "claim_idle_ms": 500, "lease_ms": 400, "idle_poll_ms": 5},
        }
    )
    client = make_redis(rds.url, socket_timeout=1, socket_connect_timeout=0.5)
    services = Services(settings, client, sql_engine, rds.url)
    services.connectors = {"whatsapp": TwilioLike("whatsapp", PUBLIC)}
    app = create_app(settings, services)
    handle = start_embedded_workers(services, echo_handler, {"whatsapp": FakeConnector(fake.url, "whatsapp")}, 2)
    n = 300
    codes: dict[int, int] = defaultdict(int)

    def load() -> None:
        web = app.test_client()
        for i in range(n):
            form = {
                "MessageSid": f"SM{i}",
                "AccountSid": "AC1",
                "From": f"whatsapp:+3160000{i % 13:04d}",
                "To": "whatsapp:+3120000000",
                "Body": str(i),
                "NumMedia": "0",
            }
            while True:  # the channel retries until accepted
                r = web.post(
                    "/webhooks/twilio",
                    data=urlencode(form),
                    content_type="application/x-www-form-urlencoded",
                    headers=signed(PUBLIC + "/webhooks/twilio", form),
                )
                codes[r.status_code] += 1
                if r.status_code == 200:
                    break
                time.sleep(0.05)
            time.sleep(0.003)

    try:
        loader = threading.Thread(target=load)
        loader.start()
        wait_for(lambda: len(fake.sent) >= 60, 30, "load to be flowing")
        rds.stop()  # graceful: the append-only file is flushed
        time.sleep(1.0)
        rds = EmbeddedRedis(server_dir, port=port, persist=True).start()
        loader.join(60)
        wait_for(lambda: len(fake.sent) >= n, 60, f"{n} replies")
        time.sleep(0.5)
        keys = fake.keys()
        assert sorted(keys) == sorted(f"whatsapp:SM{i}:0" for i in range(n))
        assert codes[503] > 0, "webhooks answered 503 while Redis was down"
        print(
            f"\nredis restart: {n} inbound, webhook answers {dict(codes)}, {len(keys)} replies, "
            f"duplicates {len(keys) - len(set(keys))}, lost {n - len(set(keys))}"
        )
    finally:
        handle.stop(timeout=10)
        fake.stop()
        rds.stop()

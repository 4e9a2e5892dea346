"""Scale-out on Redis Cluster: webhooks, workers and dialogue state on three nodes, no cross-slot error."""

from __future__ import annotations

import time
from typing import cast
from urllib.parse import urlencode

import pytest
import redis

from bots.pipeline import keys_for, start_embedded_workers
from bots.services import Services
from bots.web.app import create_app

from .cluster import LocalCluster
from .fake_channel import FakeChannelServer, FakeConnector
from .procs import wait_for
from .test_webhooks import PUBLIC, TOKEN, TwilioLike, signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_webhooks_workers_and_dialogue_state_on_a_three_node_cluster(make_settings, sql_engine, tmp_path) -> None:
    from bots.dialogue.actions import load_actions
    from bots.dialogue.runtime import ConversationRuntime
    from tests.dialogue.conftest import DOMAIN
    from tests.dialogue.rules_nlu import RulesNLU

    cluster = LocalCluster(tmp_path / "cluster").start()
    fake = FakeChannelServer().start()
    handle = None
    try:
        settings = make_settings(
            {
                "channels": {
                    "twilio": {
                        "enabled": True,
                        "account_sid": "AC1",
                        "auth_token": TOKEN,
                        "public_url": PUBLIC,
                        "whatsapp_from": "whatsapp:+3120000000",
                    }
                },
                "pipeline": {"shards": 8, "claim_idle_ms": 500, "lease_ms": 500, "idle_poll_ms": 5},
                "dialogue": {
                    "domain_file": str(DOMAIN),
                    "actions_module": "bots.airline.actions",
                    "actions_options": {"database": str(tmp_path / "airline.db")},
                    "action_timeout_seconds": 2,
                },
            }
        )
        rc = cluster.client()
        # the code types its clients as redis.Redis and serves a RedisCluster as well
        client = cast(redis.Redis, rc)
        services = Services(settings, client, sql_engine, f"redis://127.0.0.1:{cluster.ports[0]}/0")
        services.connectors = {"whatsapp": TwilioLike("whatsapp", PUBLIC)}
        d = settings.dialogue
        runtime = ConversationRuntime(
            settings=settings,
            redis=client,
            engine=sql_engine,
            nlu=RulesNLU(),
            actions=load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds),
        )

        app = create_app(settings, services)
        web = app.test_client()
        convs, per = 10, 4
        texts = ["hello", "what is my booking status", "thanks", "bye"]
        for seq in range(per):
            for c in range(convs):
                form = {
                    "MessageSid": f"SM{c}x{seq}",
                    "AccountSid": "AC1",
                    "From": f"whatsapp:+316000000{c:02d}",
                    "To": "whatsapp:+3120000000",
                    "Body": texts[seq],
                    "NumMedia": "0",
                }
                for _ in range(2):  # every webhook delivered twice
                    r = web.post(
                        "/webhooks/twilio",
                        data=urlencode(form),
                        content_type="application/x-www-form-urlencoded",
                        headers=signed(PUBLIC + "/webhooks/twilio", form),
                    )
                    assert r.status_code == 200, r.get_data(as_text=True)
        keys = keys_for(settings)
        nodes_used = {rc.get_node_from_key(s).port for s in keys.all_streams()}
        assert len(nodes_used) >= 2, "shard streams spread over the cluster's nodes"
        handle = start_embedded_workers(services, runtime.handle, {"whatsapp": FakeConnector(fake.url, "whatsapp")}, 3)
        expected = {f"whatsapp:SM{c}x{s}" for c in range(convs) for s in range(per)}

        def answered() -> set[str]:
            return {k.rsplit(":", 1)[0] for k in fake.keys()}  # noqa: SIM118 - the fake's method (a list), no dict

        wait_for(lambda: answered() >= expected, 60, "every message answered")
        time.sleep(0.5)
        assert answered() == expected
        assert len(fake.keys()) == len(set(fake.keys())), "no reply sent twice"
        # dialogue state lives in the cluster too
        assert any(b"state" in k or b"dlg" in k or b"conv" in k for k in rc.keys("*"))
        text = web.get("/metrics").get_data(as_text=True)
        assert "brandbot_queue_depth 0.0" in text
        print(
            f"\ncluster: 3 nodes {cluster.ports}, {len(expected)} inbound (each webhook twice), "
            f"{len(fake.keys())} replies, per worker {[w.processed for w in handle.workers]}, no cross-slot error"
        )
    finally:
        if handle is not None:
            handle.stop(timeout=10)
        fake.stop()
        cluster.stop()

"""Twilio channel bookkeeping moved from the webhook to the worker, end to end: signed webhook ->
Ingest -> Worker (connector.resolve, then the turn) -> real twilio client -> fake Twilio API."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

import pytest
import redis
from twilio.request_validator import RequestValidator

from bots.pipeline import DeadLetters, Worker, keys_for
from bots.pipeline.turn import TurnResult
from bots.runtime import build_connectors_for
from bots.services import Services
from bots.web.app import create_app
from connectors.base import Inbound, Outbound, QuickReply
from connectors.errors import PermanentSendError
from tests.fakes.twilio_api import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilioAPI

from .test_channels_e2e import PUBLIC, drain

pytestmark = pytest.mark.integration

SMS_NUMBER = "+31655555555"
WA_NUMBER = "whatsapp:+31666666666"


def turn(inbound: Inbound) -> TurnResult:
    """Like the dialogue: no turn on channel events; "seat" offers options; an answer is echoed."""
    if inbound.kind == "event":
        return TurnResult([])
    if inbound.text == "seat":
        return TurnResult(
            [
                Outbound(
                    inbound.channel,
                    inbound.sender_id,
                    "Window or aisle?",
                    quick_replies=(QuickReply("Window", "seat:window"), QuickReply("Aisle", "seat:aisle")),
                )
            ]
        )
    return TurnResult(
        [Outbound(inbound.channel, inbound.sender_id, f"{inbound.kind}: {inbound.payload or inbound.text}")]
    )


@pytest.fixture
def world(make_settings, redis_client, sql_engine, redis_url):
    twilio = FakeTwilioAPI().start()
    settings = make_settings(
        {
            "channels": {
                "webchat": {"enabled": False},
                "twilio": {
                    "enabled": True,
                    "account_sid": DEFAULT_SID,
                    "auth_token": DEFAULT_TOKEN,
                    "public_url": PUBLIC,
                    "whatsapp_from": "whatsapp:+3120000000",
                    "sms_from": "+3120000001",
                    "api_base_url": twilio.base_url,
                },
            },
            "pipeline": {"shards": 4, "send_backoff_initial": 0.001, "send_backoff_max": 0.01},
        }
    )
    services = Services(settings, redis_client, sql_engine, redis_url)
    app = create_app(settings, services)
    connectors = build_connectors_for(services)
    worker = Worker(redis_client, sql_engine, settings, turn, connectors)
    yield app.test_client(), services, worker, twilio, connectors
    twilio.stop()


def post(web, sid: str, sender: str, body: str) -> None:
    to = "whatsapp:+3120000000" if sender.startswith("whatsapp:") else "+3120000001"
    form = {"MessageSid": sid, "AccountSid": DEFAULT_SID, "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    sig = RequestValidator(DEFAULT_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
    r = web.post(
        "/webhooks/twilio",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )
    assert r.status_code == 200


def bodies(twilio: FakeTwilioAPI, to: str) -> list[str]:
    return [m["Body"] for m in twilio.messages(to)]


def test_sms_stop_refuses_every_later_outbound_before_any_api_call_and_start_lifts_it(world) -> None:
    web, services, worker, twilio, connectors = world
    post(web, "SMs1", SMS_NUMBER, "hello")
    drain(worker)
    assert bodies(twilio, SMS_NUMBER) == ["message: hello"]
    calls = len(twilio.requests)

    post(web, "SMs2", SMS_NUMBER, "STOP")
    # recorded by the webhook itself: even a send that does not wait for the worker is refused
    with pytest.raises(PermanentSendError, match="opted out"):
        connectors["sms"].send(Outbound("sms", SMS_NUMBER, "a notification", idempotency_key="n1"))
    post(web, "SMs3", SMS_NUMBER, "hello again")
    drain(worker)
    assert len(twilio.requests) == calls, "no API call at all after STOP"
    [letter] = DeadLetters(services.redis, keys_for(services.settings)).list()
    assert letter.kind == "send" and "opted out" in letter.error

    post(web, "SMs4", SMS_NUMBER, "START")
    post(web, "SMs5", SMS_NUMBER, "back")
    drain(worker)
    assert bodies(twilio, SMS_NUMBER) == ["message: hello", "message: back"]


def test_yes_from_a_subscribed_number_is_an_answer_not_an_opt_in(world) -> None:
    web, _, worker, twilio, _ = world
    post(web, "SMy1", SMS_NUMBER, "YES")
    drain(worker)
    assert bodies(twilio, SMS_NUMBER) == ["message: YES"]


def test_numbered_options_resolve_in_the_worker(world) -> None:
    web, _, worker, twilio, _ = world
    post(web, "SMo1", SMS_NUMBER, "seat")
    post(web, "SMo2", SMS_NUMBER, "2")  # queued before the options were even sent: resolved in order
    drain(worker)
    assert bodies(twilio, SMS_NUMBER) == ["Window or aisle?\n\n1. Window\n2. Aisle", "callback: seat:aisle"]
    post(web, "SMo3", SMS_NUMBER, "2")  # the last reply offered nothing: plain text
    drain(worker)
    assert bodies(twilio, SMS_NUMBER)[-1] == "message: 2"


def test_each_whatsapp_inbound_opens_the_window_when_its_turn_starts(world) -> None:
    web, _, worker, twilio, connectors = world
    wa = connectors["whatsapp"]
    wa.state.close_window(WA_NUMBER)
    post(web, "SMw1", WA_NUMBER, "hi")
    assert not wa.window_open(WA_NUMBER), "the webhook only parses and enqueues"
    drain(worker)
    assert wa.window_open(WA_NUMBER)
    assert bodies(twilio, WA_NUMBER) == ["message: hi"]  # free text: the window was open for the reply
    wa.state.close_window(WA_NUMBER)  # as after 24 hours (63016)
    post(web, "SMw2", WA_NUMBER, "hello again")
    drain(worker)
    assert bodies(twilio, WA_NUMBER)[-1] == "message: hello again", "the new inbound reopened it"


def test_resolve_runs_on_a_redis_cluster(tmp_path) -> None:
    """The worker-side lookup is one script on keys of one hash slot: no cross-slot error."""
    from connectors.twilio import SmsConnector, WhatsAppConnector
    from tests.connectors.conftest import twilio_request

    from .cluster import LocalCluster

    cluster = LocalCluster(tmp_path / "cluster").start()
    twilio = FakeTwilioAPI().start()
    try:
        # the code types its clients as redis.Redis and serves a RedisCluster as well
        rc = cast(redis.Redis, cluster.client())
        kw: dict[str, Any] = dict(api_base_url=twilio.base_url, timeout=5)
        sms = SmsConnector(DEFAULT_SID, DEFAULT_TOKEN, "+3120000001", rc, "bb", **kw)
        wa = WhatsAppConnector(DEFAULT_SID, DEFAULT_TOKEN, "whatsapp:+3120000000", rc, "bb", **kw)

        def receive(conn, sid: str, sender: str, body: str) -> Inbound:
            form = {
                "MessageSid": sid,
                "AccountSid": DEFAULT_SID,
                "From": sender,
                "To": "+3120000001",
                "Body": body,
                "NumMedia": "0",
            }
            [inbound] = conn.parse(twilio_request(form, token=DEFAULT_TOKEN))
            return conn.resolve(inbound)

        assert receive(sms, "SMc1", SMS_NUMBER, "STOP").event == "opt_out"
        assert receive(sms, "SMc2", SMS_NUMBER, "START").event == "opt_in"
        sms.send(Outbound("sms", SMS_NUMBER, "Pick", quick_replies=(QuickReply("A", "a"), QuickReply("B", "b"))))
        assert receive(sms, "SMc3", SMS_NUMBER, "2").payload == "b"
        assert receive(wa, "SMc4", WA_NUMBER, "hi").kind == "message"
        assert wa.window_open(WA_NUMBER)
    finally:
        twilio.stop()
        cluster.stop()

"""The webhook only parses (no Redis for ordinary messages); the worker resolves (window, keywords, options)."""

from __future__ import annotations

import pytest
import redis
from twilio.request_validator import RequestValidator

from connectors.base import Outbound, QuickReply
from connectors.errors import PermanentSendError
from connectors.twilio import SmsConnector, WhatsAppConnector, signature_matches

from .conftest import DEFAULT_SID, SMS_FROM, TWILIO_TOKEN, WHATSAPP_FROM, load_fixture, twilio_request

pytestmark = pytest.mark.integration  # real Redis and the fake Twilio API

CUSTOMER = "+31612345678"


@pytest.fixture
def unreachable_redis() -> redis.Redis:
    """A real client whose server is gone: any command fails."""
    from bots.stores.redis_client import free_port

    return redis.Redis(port=free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)


def test_parsing_an_ordinary_message_needs_no_redis(unreachable_redis, fake_twilio):
    for cls, sender in ((WhatsAppConnector, WHATSAPP_FROM), (SmsConnector, SMS_FROM)):
        conn = cls(DEFAULT_SID, TWILIO_TOKEN, sender, unreachable_redis, "test", api_base_url=fake_twilio.base_url)
        for fixture in ("twilio_whatsapp_text", "twilio_sms_text", "twilio_sms_start", "twilio_sms_help"):
            [inbound] = conn.parse(twilio_request(load_fixture(fixture)))
            assert inbound.kind == "message" and inbound.event is None  # resolved later, by the worker
        with pytest.raises(redis.RedisError):
            conn.resolve(inbound)  # the worker's step does the I/O (and leaves the message pending)


def test_stop_is_recorded_by_the_webhook_itself_so_nothing_more_goes_out(sms, fake_twilio):
    [stop] = sms.parse(twilio_request(load_fixture("twilio_sms_stop")))  # no worker has run yet
    assert (stop.kind, stop.event) == ("event", "opt_out")
    with pytest.raises(PermanentSendError, match="opted out"):
        sms.send(Outbound("sms", CUSTOMER, "A notification sent while STOP waits in the queue"))
    assert fake_twilio.requests == []
    assert sms.resolve(stop) == stop  # the worker's step records it again, harmlessly


def test_resolving_the_same_start_twice_gives_the_same_answer(sms, fake_twilio):
    sms.resolve(sms.parse(twilio_request(load_fixture("twilio_sms_stop")))[0])
    [start] = sms.parse(twilio_request(load_fixture("twilio_sms_start")))
    first = sms.resolve(start)
    again = sms.resolve(start)  # the turn redone after a worker crash
    assert (first.kind, first.event) == (again.kind, again.event) == ("event", "opt_in")
    sms.send(Outbound("sms", CUSTOMER, "Welcome back."))
    later_yes = sms.parse(
        twilio_request(dict(load_fixture("twilio_sms_start"), Body="YES", MessageSid="SM" + "9" * 32))
    )[0]
    assert sms.resolve(later_yes).kind == "message", "a later YES from a subscribed number is an answer"


def test_a_start_sent_before_a_stop_does_not_lift_that_stop(sms, fake_twilio, clock):
    [start] = sms.parse(twilio_request(load_fixture("twilio_sms_start")))
    clock.advance(1)
    sms.parse(twilio_request(dict(load_fixture("twilio_sms_stop"), MessageSid="SM" + "8" * 32)))  # webhook records STOP
    assert sms.resolve(start).event == "opt_in"  # the worker reaches START first (it was queued first)
    with pytest.raises(PermanentSendError, match="opted out"):
        sms.send(Outbound("sms", CUSTOMER, "hello"))


def test_numbered_options_resolve_against_what_the_previous_turn_offered(whatsapp, fake_twilio):
    whatsapp.resolve(whatsapp.parse(twilio_request(load_fixture("twilio_whatsapp_text")))[0])
    form = dict(load_fixture("twilio_whatsapp_text"), Body="2", MessageSid="SM" + "7" * 32)
    [early] = whatsapp.parse(twilio_request(form))
    assert early.payload is None  # the webhook does not look options up
    whatsapp.send(
        Outbound(
            "whatsapp",
            CUSTOMER,
            "Window or aisle?",
            quick_replies=(QuickReply("Window", "seat:window"), QuickReply("Aisle", "seat:aisle")),
        )
    )
    answer = whatsapp.resolve(early)
    assert (answer.kind, answer.payload, answer.text) == ("callback", "seat:aisle", "Aisle")


@pytest.mark.parametrize(
    "signed, seen",
    [
        ("https://bot.example.com/webhooks/twilio", "https://bot.example.com/webhooks/twilio"),
        ("https://bot.example.com:443/webhooks/twilio", "https://bot.example.com/webhooks/twilio"),
        ("https://bot.example.com/webhooks/twilio", "https://bot.example.com:443/webhooks/twilio"),
        ("http://127.0.0.1:8000/webhooks/twilio?x=1", "http://127.0.0.1:8000/webhooks/twilio?x=1"),
        ("http://127.0.0.1/webhooks/twilio?x=1", "http://127.0.0.1:8000/webhooks/twilio?x=1"),
        ("https://evil.example.com/webhooks/twilio", "https://bot.example.com/webhooks/twilio"),
    ],
)
@pytest.mark.parametrize("algorithm", [None, "HMAC_SHA1", "HMAC_SHA256", "HMAC_MD5"])
def test_signature_check_accepts_exactly_what_twilios_validator_accepts(signed, seen, algorithm):
    form = load_fixture("twilio_sms_text")
    validator = RequestValidator(TWILIO_TOKEN)
    good = validator.compute_signature(signed, form, algorithm if algorithm != "HMAC_MD5" else None)
    for signature in (good, good[:-2] + "xx", ""):
        expected = validator.validate(seen, form, signature, algorithm)
        assert signature_matches(seen, form, signature, TWILIO_TOKEN, algorithm) is expected, (signed, seen, signature)

"""Issue 12, the connectors' part of proactive notifications: named template variables and
per-language template variants, who cannot be reached now, and Twilio's per-sender rate limit.

The real connectors against the fake Twilio, Graph and Bot APIs on real Redis.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from bots.channel_registry import build_connectors
from bots.errors import ConfigError
from bots.runtime import close_connectors
from connectors._ratelimit import Rate
from connectors._template_text import check_placeholders, fill
from connectors.base import Outbound, Reachable
from connectors.errors import PermanentSendError, TransientSendError
from connectors.meta import CloudTemplate, GraphClient, MetaAccounts, MetaOptions, WhatsAppCloudConnector
from connectors.telegram import TelegramConnector
from connectors.twilio import SmsConnector, TemplateSpec, WhatsAppConnector
from tests.fakes.graph_api import (
    DEFAULT_INSTAGRAM_ID,
    DEFAULT_PAGE_ID,
    DEFAULT_PHONE_NUMBER_ID,
    DEFAULT_TOKEN,
    FakeGraphAPI,
)
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, FakeTwilioAPI
from tests.fakes.twilio_api import DEFAULT_TOKEN as TWILIO_TOKEN

from .conftest import (
    SMS_FROM,
    WHATSAPP_FROM,
    Clock,
    _twilio_kwargs,
    channels_config,
    load_fixture,
    meta_config,
    telegram_request,
    twilio_request,
)

pytestmark = pytest.mark.integration  # real Redis and the fake channel APIs

CUSTOMER = "+31612345678"
EN_SID = "HX" + "e" * 32
FR_SID = "HX" + "f" * 32
FLIGHT_UPDATE = TemplateSpec(EN_SID, ["{flight}", "{status}"], languages={"fr": FR_SID})
CLOUD_FLIGHT_UPDATE = CloudTemplate("flight_update", "en_US", ("{flight}", "{status}"), {"fr": "fr", "en": "en_US"})
VARIABLES = {"flight": "KL1234", "status": "retardé, départ 11:05"}
#: ``notifications.kinds``: what fills a channel template's ``{flight}`` and ``{status}``.
NOTIFY_KINDS = {
    "kinds": {"flight_update": {"variables": ["flight", "status"], "text": {"en": "Flight {flight}: {status}"}}}
}


def notification(channel: str, to: str = CUSTOMER, key: str = "notification:ntf_1", **extra: Any) -> Outbound:
    fields: dict[str, Any] = {"kind": "flight_update", "variables": VARIABLES, "language": "fr"} | extra
    return Outbound(channel, to, "Votre vol KL1234 est retardé.", idempotency_key=key, **fields)


@pytest.fixture
def notify_whatsapp(fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock) -> WhatsAppConnector:
    """WhatsApp through Twilio whose window with the customer was never opened: templates only."""
    return WhatsAppConnector(
        DEFAULT_SID,
        TWILIO_TOKEN,
        WHATSAPP_FROM,
        redis_client,
        "test",
        templates={"flight_update": FLIGHT_UPDATE},
        **_twilio_kwargs(fake_twilio, clock),
    )


def limited_sms(fake: FakeTwilioAPI, client: redis.Redis, clock: Clock, **extra: Any) -> SmsConnector:
    return SmsConnector(DEFAULT_SID, TWILIO_TOKEN, SMS_FROM, client, "test", **_twilio_kwargs(fake, clock), **extra)


# -- Outbound on the stream ----------------------------------------------------------
def test_an_outbound_keeps_its_variables_and_language_through_json() -> None:
    sent = notification("whatsapp")
    back = Outbound.from_dict(json.loads(json.dumps(sent.to_dict())))
    assert back == sent
    assert back.variables == VARIABLES and back.language == "fr"


def test_an_outbound_stored_before_variables_existed_reads_back_without_them() -> None:
    old = Outbound("sms", CUSTOMER, "Hello", idempotency_key="k1").to_dict()
    del old["variables"], old["language"]
    back = Outbound.from_dict(old)
    assert back.variables == {} and back.language is None
    assert back == Outbound("sms", CUSTOMER, "Hello", idempotency_key="k1")


# -- filling template variables (pure) ---------------------------------------------------
def test_fill_uses_the_outbounds_variables_and_the_built_ins_win_over_a_same_named_one() -> None:
    message = Outbound(
        "whatsapp", CUSTOMER, "the text", kind="flight_update", variables={"flight": "KL1234", "text": "x"}
    )
    assert fill("{flight}: {text} ({kind})", message, 1024) == "KL1234: the text (flight_update)"
    assert fill("{flight} {text}", message, 8) == "KL1234…"


def test_fill_refuses_a_name_the_message_has_no_value_for() -> None:
    message = Outbound("whatsapp", CUSTOMER, "t", variables={"flight": "KL1234"})
    with pytest.raises(ValueError, match=r"\{status\} has no value \(the message has \['flight', 'kind', 'recipient'"):
        fill("{status}", message, 1024)


def test_placeholders_must_be_identifiers_and_any_identifier_is_accepted_without_a_list() -> None:
    check_placeholders(["{flight} at {gate}"], allowed=None)
    with pytest.raises(ValueError, match=r"uses \{flight\}; valid placeholders"):
        check_placeholders(["{flight}"])
    for bad in ("{0}", "{}", "{a.b}"):
        with pytest.raises(ValueError, match="a placeholder is a name"):
            check_placeholders([bad], allowed=None)
    with pytest.raises(ValueError, match="not a Content API sid"):
        TemplateSpec(EN_SID, ["{flight}"], languages={"fr": "HX-nope"})


# -- Twilio WhatsApp templates -------------------------------------------------------------
def test_a_notification_outside_the_window_sends_the_french_template_with_its_variables(
    notify_whatsapp: WhatsAppConnector, fake_twilio: FakeTwilioAPI
) -> None:
    notify_whatsapp.send(notification("whatsapp"))
    [msg] = fake_twilio.messages()
    assert "Body" not in msg
    assert msg["ContentSid"] == FR_SID
    assert json.loads(msg["ContentVariables"]) == {"1": "KL1234", "2": "retardé, départ 11:05"}


@pytest.mark.parametrize("language", [None, "de"])
def test_a_language_without_a_variant_gets_the_default_template(
    notify_whatsapp: WhatsAppConnector, fake_twilio: FakeTwilioAPI, language: str | None
) -> None:
    notify_whatsapp.send(notification("whatsapp", language=language))
    assert fake_twilio.messages()[0]["ContentSid"] == EN_SID


def test_a_regional_language_falls_back_to_its_base_languages_variant(
    notify_whatsapp: WhatsAppConnector, fake_twilio: FakeTwilioAPI
) -> None:
    notify_whatsapp.send(notification("whatsapp", language="fr-BE"))
    assert fake_twilio.messages()[0]["ContentSid"] == FR_SID


def test_a_missing_template_variable_is_refused_before_any_twilio_call(
    notify_whatsapp: WhatsAppConnector, fake_twilio: FakeTwilioAPI
) -> None:
    with pytest.raises(PermanentSendError, match=r"kind 'flight_update'.*\{status\} has no value") as refused:
        notify_whatsapp.send(notification("whatsapp", variables={"flight": "KL1234"}))
    assert refused.value.code == "template_variables"
    assert fake_twilio.requests == []


# -- WhatsApp Cloud templates -----------------------------------------------------------
@pytest.fixture
def cloud(fake_graph: FakeGraphAPI, redis_client: redis.Redis, clock: Clock) -> WhatsAppCloudConnector:
    options = MetaOptions(
        MetaAccounts(DEFAULT_PAGE_ID, DEFAULT_INSTAGRAM_ID, DEFAULT_PHONE_NUMBER_ID),
        "app-secret",
        key_prefix="test",
        overall=Rate(1000),
    )
    graph = GraphClient(fake_graph.base_url, DEFAULT_TOKEN, timeout=5)
    return WhatsAppCloudConnector(
        graph,
        DEFAULT_PHONE_NUMBER_ID,
        redis_client,
        options,
        clock=clock,
        templates={"flight_update": CLOUD_FLIGHT_UPDATE},
    )


@pytest.mark.parametrize(("language", "code"), [("fr", "fr"), ("en", "en_US"), ("nl", "en_US"), (None, "en_US")])
def test_a_cloud_template_goes_out_in_the_customers_language_code(
    cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI, language: str | None, code: str
) -> None:
    cloud.send(notification("whatsapp_cloud", language=language))
    (sent,) = fake_graph.sends()
    assert sent["template"] == {
        "name": "flight_update",
        "language": {"code": code},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "KL1234"}, {"type": "text", "text": "retardé, départ 11:05"}],
            }
        ],
    }


def test_a_cloud_template_missing_a_variable_is_refused_before_any_graph_call(
    cloud: WhatsAppCloudConnector, fake_graph: FakeGraphAPI
) -> None:
    with pytest.raises(PermanentSendError, match=r"\{flight\} has no value") as refused:
        cloud.send(notification("whatsapp_cloud", variables={"status": "on time"}))
    assert refused.value.code == "template_variables"
    assert fake_graph.sends() == []


# -- who cannot be reached now -----------------------------------------------------------
def test_an_opted_out_sms_number_is_unreachable_with_the_reason_and_when(
    sms: SmsConnector, fake_twilio: FakeTwilioAPI
) -> None:
    assert isinstance(sms, Reachable)
    assert sms.unreachable(CUSTOMER) is None
    [stop] = [sms.resolve(i) for i in sms.parse(twilio_request(load_fixture("twilio_sms_stop")))]
    reason = sms.unreachable(f"sms:{CUSTOMER}")
    assert reason is not None
    assert "opted out" in reason and "keyword 'stop'" in reason and "nothing is sent until it texts START" in reason
    assert f"{stop.timestamp:%Y-%m-%d %H:%M} UTC" in reason
    assert sms.unreachable("+31687654321") is None
    assert sms.is_opted_out(CUSTOMER)  # the older question still works
    assert fake_twilio.requests == []


def test_a_telegram_chat_that_blocked_the_bot_is_unreachable_until_it_writes_again(
    telegram: TelegramConnector,
) -> None:
    assert isinstance(telegram, Reachable)
    [event] = telegram.parse(telegram_request(load_fixture("telegram_my_chat_member_blocked")))
    assert event.event == "bot_blocked"
    chat = event.sender_id
    record = telegram.blocked(chat)
    assert record is not None
    reason = telegram.unreachable(f"telegram:{chat}")
    assert reason is not None and "blocked the bot" in reason and "until the customer unblocks it" in reason
    assert f"{datetime.fromtimestamp(record['at'], UTC):%Y-%m-%d %H:%M} UTC" in reason
    assert telegram.unreachable(chat) == reason
    assert telegram.unreachable("42") is None
    telegram.clear_blocked(chat)
    assert telegram.unreachable(chat) is None


# -- Twilio's per-sender rate limit ------------------------------------------------------
def test_a_full_sender_rate_limit_refuses_the_third_send_in_a_second_as_transient(
    fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock
) -> None:
    sms = limited_sms(fake_twilio, redis_client, clock, rate=Rate(2), max_rate_wait=0)
    sms.send(Outbound("sms", CUSTOMER, "one", idempotency_key="k1"))
    sms.send(Outbound("sms", "+31687654321", "two", idempotency_key="k2"))
    with pytest.raises(TransientSendError, match=rf"rate limit of sender \{SMS_FROM} \(2 per 1 s\)") as limited:
        sms.send(Outbound("sms", CUSTOMER, "three", idempotency_key="k3"))
    assert limited.value.code == "rate_limited"
    assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 1
    assert [m["Body"] for m in fake_twilio.messages()] == ["one", "two"]
    assert redis_client.exists(f"{{test:twilio:rl}}:{SMS_FROM}:2/1")


def test_each_part_of_a_split_text_takes_a_slot_and_a_retry_sends_only_the_rest(
    fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock
) -> None:
    sms = limited_sms(fake_twilio, redis_client, clock, rate=Rate(2), max_rate_wait=0, max_text_length=160)
    message = Outbound("sms", CUSTOMER, " ".join(["word"] * 90), idempotency_key="long")  # 449 characters: 3 parts
    with pytest.raises(TransientSendError) as limited:
        sms.send(message)
    assert limited.value.code == "rate_limited" and len(fake_twilio.messages()) == 2
    time.sleep(limited.value.retry_after or 0)
    sms.send(message)
    assert len(fake_twilio.messages()) == 3


def test_with_a_wait_allowed_the_third_send_goes_out_after_waiting(
    fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, clock: Clock
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    sms = limited_sms(fake_twilio, redis_client, clock, rate=Rate(2), max_rate_wait=2.0, sleep=sleep)
    for n in range(3):
        sms.send(Outbound("sms", CUSTOMER, f"message {n}", idempotency_key=f"k{n}"))
    assert len(fake_twilio.messages()) == 3
    assert waits and 0 < sum(waits) <= 1.05


# -- settings --------------------------------------------------------------------------
def test_template_languages_and_the_rate_come_from_the_settings(
    make_settings: Any, redis_client: redis.Redis, fake_telegram: FakeTelegramAPI, fake_twilio: FakeTwilioAPI
) -> None:
    template = {"content_sid": EN_SID, "variables": ["{flight}", "{status}"], "languages": {"fr": FR_SID}}
    config = channels_config(
        fake_telegram,
        fake_twilio,
        whatsapp={"templates": {"flight_update": template}},
        messages_per_second=1,
        max_rate_wait_seconds=0,
    )
    settings = make_settings(config | {"notifications": NOTIFY_KINDS})
    assert settings.channels.twilio.messages_per_second == 1
    conns = build_connectors(settings, redis_client)
    try:
        conns["whatsapp"].send(notification("whatsapp"))
        with pytest.raises(TransientSendError, match="rate limit"):
            conns["whatsapp"].send(notification("whatsapp", key="notification:ntf_2"))
    finally:
        close_connectors(conns)
    assert [m["ContentSid"] for m in fake_twilio.messages()] == [FR_SID]


def test_cloud_template_languages_come_from_the_settings(
    make_settings: Any,
    redis_client: redis.Redis,
    fake_telegram: FakeTelegramAPI,
    fake_twilio: FakeTwilioAPI,
    fake_graph: FakeGraphAPI,
) -> None:
    template = {"name": "flight_update", "language": "en_US", "variables": ["{flight}"], "languages": {"fr": "fr"}}
    extra = {"whatsapp": {"templates": {"flight_update": template}}}
    settings = make_settings({"channels": {"meta": meta_config(fake_graph, **extra)}, "notifications": NOTIFY_KINDS})
    conns = build_connectors(settings, redis_client)
    try:
        conns["whatsapp_cloud"].send(notification("whatsapp_cloud"))
    finally:
        close_connectors(conns)
    (sent,) = fake_graph.sends()
    assert sent["template"]["language"] == {"code": "fr"}


@pytest.mark.parametrize(
    ("channels", "match"),
    [
        (
            {
                "twilio": {
                    "whatsapp": {"templates": {"flight_update": {"content_sid": EN_SID, "languages": {"fr": "HX1"}}}}
                }
            },
            r"templates\.flight_update\.languages: languages\.fr: 'HX1' is not a Content API sid",
        ),
        (
            {"twilio": {"whatsapp": {"templates": {"t": {"content_sid": EN_SID, "languages": {"French": FR_SID}}}}}},
            r"templates\.t\.languages: key 'French' is not a language code",
        ),
        (
            {"meta": {"whatsapp": {"templates": {"t": {"name": "t", "languages": {"fr": "french"}}}}}},
            r"meta\.whatsapp\.templates\.t\.languages: languages\.fr: 'french' is not a WhatsApp language code",
        ),
        ({"twilio": {"messages_per_second": 0}}, r"channels\.twilio\.messages_per_second"),
    ],
)
def test_settings_refuse_a_bad_template_language_naming_the_key(
    make_settings: Any, channels: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        make_settings({"channels": channels})


def test_a_template_variable_no_notification_kind_fills_is_refused_naming_the_template(
    make_settings: Any, redis_client: redis.Redis, fake_telegram: FakeTelegramAPI, fake_twilio: FakeTwilioAPI
) -> None:
    template = {"content_sid": EN_SID, "variables": ["{flight}", "{gate}"]}
    config = channels_config(fake_telegram, fake_twilio, whatsapp={"templates": {"flight_update": template}})
    settings = make_settings(config | {"notifications": NOTIFY_KINDS})
    with pytest.raises(
        ConfigError,
        match=r"flight_update: .*\{gate\}.*placeholders: \['text', 'recipient', 'kind', 'flight', 'status'\]",
    ):
        build_connectors(settings, redis_client)
    reply = {"content_sid": EN_SID, "variables": ["{flight}"]}
    settings = make_settings(channels_config(fake_telegram, fake_twilio, whatsapp={"templates": {"reply": reply}}))
    with pytest.raises(ConfigError, match=r"templates\.reply: .*\{flight\}.*notifications\.kinds\.reply\.variables"):
        build_connectors(settings, redis_client)

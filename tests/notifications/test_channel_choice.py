"""Which channel a notification goes to: ``order`` (pure) and ``refusal`` against real connectors.

The connectors are the real ones, pointed at the fake APIs (nothing is sent here: ``refusal`` only
reads the channel state in Redis: opt-outs, blocked chats, the last message's time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from bots.notifications.channel_choice import Candidate, Choice, order, refusal
from bots.privacy import ConsentState
from connectors._ratelimit import Rate
from connectors.meta import (
    CloudTemplate,
    GraphClient,
    InstagramConnector,
    MessengerConnector,
    MetaAccounts,
    MetaOptions,
    WhatsAppCloudConnector,
)
from connectors.telegram import TelegramConnector
from connectors.twilio import SmsConnector, TemplateSpec, WhatsAppConnector
from tests.connectors.conftest import (
    SMS_FROM,
    TG_SECRET,
    TWILIO_TOKEN,
    WHATSAPP_FROM,
    Clock,
    fake_graph,
    fake_telegram,
    fake_twilio,
)
from tests.fakes.graph_api import DEFAULT_INSTAGRAM_ID, DEFAULT_PAGE_ID, DEFAULT_PHONE_NUMBER_ID, FakeGraphAPI
from tests.fakes.graph_api import DEFAULT_TOKEN as META_TOKEN
from tests.fakes.telegram_api import DEFAULT_TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import DEFAULT_SID, FakeTwilioAPI

__all__ = ["fake_graph", "fake_telegram", "fake_twilio"]  # the fake APIs' fixtures, used below

FALLBACK = ["whatsapp_cloud", "whatsapp", "messenger", "instagram", "telegram", "sms"]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NUMBER = "+33612345678"
PSID = "6543210987654321"
IGSID = "1784140000000042"
CHAT = "4242"
HOUR = 3600.0


def cand(channel: str, customer_id: str = "1", minutes: int | None = None) -> Candidate:
    """A candidate seen ``minutes`` after T0 (None: never seen)."""
    seen = None if minutes is None else T0 + timedelta(minutes=minutes)
    return Candidate(channel, customer_id, f"{channel}:{customer_id}", seen)


def consent(purpose: str, granted: bool, day: int = 3) -> ConsentState:
    return ConsentState(purpose, granted, "words", "v1", datetime(2026, 11, day, 10, 0, tzinfo=UTC))


# -- order ------------------------------------------------------------------------------------
def test_order_puts_the_preferred_channel_first_then_the_most_recent_then_the_fallback_order() -> None:
    sms, telegram, whatsapp = cand("sms", minutes=5), cand("telegram", minutes=30), cand("whatsapp", minutes=1)
    assert order([sms, telegram, whatsapp], "sms", FALLBACK) == [sms, telegram, whatsapp]
    assert order([sms, telegram, whatsapp], None, FALLBACK) == [telegram, whatsapp, sms]


def test_order_without_preference_starts_with_the_most_recent_even_late_in_the_fallback() -> None:
    sms, cloud = cand("sms", minutes=60), cand("whatsapp_cloud", minutes=1)
    assert order([cloud, sms], None, FALLBACK) == [sms, cloud]


def test_order_never_tries_a_channel_missing_from_the_fallback_unless_it_is_preferred() -> None:
    sms, telegram = cand("sms", minutes=60), cand("telegram", minutes=1)
    only_telegram = ["telegram"]
    assert order([sms, telegram], None, only_telegram) == [telegram]
    assert order([sms, telegram], "sms", only_telegram) == [sms, telegram]
    assert order([sms], None, only_telegram) == []


def test_order_tries_several_identities_on_one_channel_most_recent_first() -> None:
    old, new, newest = cand("sms", "+33611111111", 1), cand("sms", "+33622222222", 20), cand("telegram", "7", 40)
    assert order([old, newest, new], None, FALLBACK) == [newest, new, old]
    assert order([old, newest, new], "sms", FALLBACK) == [new, old, newest]


def test_order_without_last_seen_follows_the_fallback_order() -> None:
    sms, telegram, cloud = cand("sms"), cand("telegram"), cand("whatsapp_cloud")
    assert order([sms, telegram, cloud], None, FALLBACK) == [cloud, telegram, sms]
    assert order([sms, telegram, cloud], "sms", FALLBACK) == [sms, cloud, telegram]


def test_order_puts_a_seen_identity_before_never_seen_ones() -> None:
    sms, telegram = cand("sms", minutes=3), cand("telegram")
    assert order([telegram, sms], None, FALLBACK) == [sms, telegram]


def test_order_of_nothing_is_nothing_and_a_choice_of_nothing_says_so() -> None:
    assert order([], "sms", FALLBACK) == []
    assert Choice(None).reason == "no channel to send it to"
    refused = Choice(None, ((cand("sms"), "opted out"), (cand("telegram"), "blocked")))
    assert refused.reason == "sms: opted out | telegram: blocked"


# -- the connectors, against the fake APIs ----------------------------------------------------
@pytest.fixture
def tick() -> Clock:
    """The connectors' clock (epoch seconds), moved by hand."""
    return Clock()


def _twilio(fake: FakeTwilioAPI, tick: Clock) -> dict[str, Any]:
    return {"api_base_url": fake.base_url, "clock": tick, "timeout": 5}


@pytest.fixture
def sms(fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, tick: Clock) -> SmsConnector:
    return SmsConnector(DEFAULT_SID, TWILIO_TOKEN, SMS_FROM, redis_client, "test", **_twilio(fake_twilio, tick))


@pytest.fixture
def whatsapp(fake_twilio: FakeTwilioAPI, redis_client: redis.Redis, tick: Clock) -> WhatsAppConnector:
    template = TemplateSpec("HX" + "f1" * 16, ["{flight}", "{status}"])
    return WhatsAppConnector(
        DEFAULT_SID,
        TWILIO_TOKEN,
        WHATSAPP_FROM,
        redis_client,
        "test",
        templates={"flight_update": template},
        **_twilio(fake_twilio, tick),
    )


@pytest.fixture
def telegram(fake_telegram: FakeTelegramAPI, redis_client: redis.Redis) -> Iterator[TelegramConnector]:
    conn = TelegramConnector(
        TG_TOKEN, TG_SECRET, redis_client, "test", api_base_url=fake_telegram.base_url, per_chat=Rate(100), timeout=5
    )
    yield conn
    conn.close()


def _meta_options() -> MetaOptions:
    accounts = MetaAccounts(DEFAULT_PAGE_ID, DEFAULT_INSTAGRAM_ID, DEFAULT_PHONE_NUMBER_ID)
    return MetaOptions(accounts=accounts, app_secret="app-secret", key_prefix="test", overall=Rate(1000))


@pytest.fixture
def cloud(fake_graph: FakeGraphAPI, redis_client: redis.Redis, tick: Clock) -> Iterator[WhatsAppCloudConnector]:
    conn = WhatsAppCloudConnector(
        GraphClient(fake_graph.base_url, META_TOKEN, timeout=5),
        DEFAULT_PHONE_NUMBER_ID,
        redis_client,
        _meta_options(),
        clock=tick,
        templates={"flight_update": CloudTemplate("flight_update", "en", ("{flight}", "{status}"))},
    )
    yield conn
    conn.close()


@pytest.fixture
def messenger(fake_graph: FakeGraphAPI, redis_client: redis.Redis, tick: Clock) -> Iterator[MessengerConnector]:
    graph = GraphClient(fake_graph.base_url, META_TOKEN, timeout=5)
    conn = MessengerConnector(graph, DEFAULT_PAGE_ID, redis_client, _meta_options(), clock=tick)
    yield conn
    conn.close()


@pytest.fixture
def instagram(fake_graph: FakeGraphAPI, redis_client: redis.Redis, tick: Clock) -> Iterator[InstagramConnector]:
    graph = GraphClient(fake_graph.base_url, META_TOKEN, timeout=5)
    conn = InstagramConnector(graph, DEFAULT_INSTAGRAM_ID, redis_client, _meta_options(), clock=tick)
    yield conn
    conn.close()


# -- refusal: the channel ---------------------------------------------------------------------
def test_an_sms_number_that_opted_out_is_refused_with_the_opt_out(sms: SmsConnector, tick: Clock) -> None:
    who = cand("sms", NUMBER)
    assert refusal(sms, who, "flight_update", "service", {}) is None
    sms.state.opt_out(f"sms:{NUMBER}", "keyword 'STOP'", at=tick())
    why = refusal(sms, who, "flight_update", "service", {})
    assert why is not None and "opted out" in why and "STOP" in why


def test_a_telegram_chat_that_blocked_the_bot_is_refused(telegram: TelegramConnector) -> None:
    who = cand("telegram", CHAT)
    assert refusal(telegram, who, "gate_change", "service", {}) is None
    telegram.mark_blocked(CHAT, "my_chat_member: the customer blocked the bot")
    why = refusal(telegram, who, "gate_change", "service", {})
    assert why is not None and "blocked the bot" in why
    telegram.clear_blocked(CHAT)
    assert refusal(telegram, who, "gate_change", "service", {}) is None


def test_twilio_whatsapp_outside_the_window_needs_the_kinds_template(whatsapp: WhatsAppConnector, tick: Clock) -> None:
    who = cand("whatsapp", NUMBER)
    assert not whatsapp.window_open(NUMBER)
    why = refusal(whatsapp, who, "gate_change", "service", {})
    assert why is not None and "24-hour window" in why and "'gate_change'" in why
    assert refusal(whatsapp, who, "flight_update", "service", {}) is None  # its template goes instead
    whatsapp.state.note_inbound(f"whatsapp:{NUMBER}", tick())
    assert refusal(whatsapp, who, "gate_change", "service", {}) is None  # free text inside the window
    tick.advance(25 * HOUR)
    assert refusal(whatsapp, who, "gate_change", "service", {}) is not None


def test_whatsapp_cloud_outside_the_window_needs_the_kinds_template(cloud: WhatsAppCloudConnector, tick: Clock) -> None:
    who = cand("whatsapp_cloud", NUMBER)
    why = refusal(cloud, who, "gate_change", "service", {})
    assert why is not None and "24-hour window" in why and "'gate_change'" in why
    assert refusal(cloud, who, "flight_update", "service", {}) is None
    cloud.state.note_inbound(f"whatsapp_cloud:{NUMBER}", tick())
    assert refusal(cloud, who, "gate_change", "service", {}) is None
    tick.advance(25 * HOUR)
    assert refusal(cloud, who, "gate_change", "service", {}) is not None


@pytest.mark.parametrize("name, customer_id", [("messenger", PSID), ("instagram", IGSID)])
def test_messenger_and_instagram_refuse_outside_the_window_having_no_templates(
    request: pytest.FixtureRequest, tick: Clock, name: str, customer_id: str
) -> None:
    connector = request.getfixturevalue(name)
    who = cand(name, customer_id)
    why = refusal(connector, who, "flight_update", "service", {})
    assert why is not None and "24-hour window" in why and "no approved template" in why
    connector.state.note_inbound(f"{name}:{customer_id}", tick())
    assert refusal(connector, who, "flight_update", "service", {}) is None
    tick.advance(23 * HOUR)
    assert refusal(connector, who, "flight_update", "service", {}) is None
    tick.advance(2 * HOUR)  # 25 hours: only staff may still answer (human-agent tag), not a notification
    assert refusal(connector, who, "flight_update", "service", {}) is not None


def test_a_channel_without_a_connector_is_refused() -> None:
    why = refusal(None, cand("telegram", CHAT), "gate_change", "service", {})
    assert why == "the channel is not enabled in this deployment"


# -- refusal: the purpose ---------------------------------------------------------------------
def test_marketing_needs_consent_granted(telegram: TelegramConnector) -> None:
    who = cand("telegram", CHAT)
    assert refusal(telegram, who, "special_offer", "marketing", {}) == "no consent to marketing messages"
    service_only = {"service_updates": consent("service_updates", True)}
    assert refusal(telegram, who, "special_offer", "marketing", service_only) == "no consent to marketing messages"
    granted = {"marketing": consent("marketing", True)}
    assert refusal(telegram, who, "special_offer", "marketing", granted) is None
    withdrawn = {"marketing": consent("marketing", False)}
    assert refusal(telegram, who, "special_offer", "marketing", withdrawn) == "withdrew consent to marketing messages"


def test_service_is_sent_unless_service_updates_were_withdrawn(telegram: TelegramConnector) -> None:
    who = cand("telegram", CHAT)
    assert refusal(telegram, who, "gate_change", "service", {}) is None
    assert refusal(telegram, who, "gate_change", "service", {"marketing": consent("marketing", False)}) is None
    withdrawn = {"service_updates": consent("service_updates", False, day=7)}
    assert refusal(telegram, who, "gate_change", "service", withdrawn) == "opted out of service updates on 2026-11-07"
    granted = {"service_updates": consent("service_updates", True)}
    assert refusal(telegram, who, "gate_change", "service", granted) is None


def test_consent_is_checked_even_on_a_channel_that_would_take_the_message(sms: SmsConnector) -> None:
    who = cand("sms", NUMBER)
    withdrawn = {"marketing": consent("marketing", False)}
    assert refusal(sms, who, "special_offer", "marketing", withdrawn) == "withdrew consent to marketing messages"

"""``Notifier.notify``: the checks, the recipient, the channel choice, the row and the queue.

Built like ``bots.web.app.build_notifier`` (the shipped notification kinds, a real ``Ingest`` on
Redis, the SQL stores on SQLite and PostgreSQL), with real connectors on the fake channel APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import Engine, func, select

from bots.errors import StoreUnavailable
from bots.notifications import CustomerLinks, IdempotencyConflict, Notifications
from bots.notifications.service import InvalidNotification, Notifier, NotifyRequest
from bots.pipeline.ingest import Ingest, keys_for
from bots.privacy import ConsentBook, Wording, customer
from bots.settings import Settings
from bots.stores.models import notifications as notifications_table
from connectors.base import Connector, Inbound
from connectors.telegram import TelegramConnector
from connectors.twilio import SmsConnector, WhatsAppConnector
from tests.conftest import REPO
from tests.notifications.conftest import Clock
from tests.notifications.test_channel_choice import (
    fake_telegram,
    fake_twilio,
    sms,
    telegram,
    tick,
    whatsapp,
)

__all__ = ["fake_telegram", "fake_twilio", "sms", "telegram", "tick", "whatsapp"]  # fixtures used below

NUMBER = "+33612345678"
CHAT = "4242"
BOOKING = "X7K9QZ"
FLIGHT = {"flight": "NB1234", "status": "delayed to 18:40"}
GATE = {"flight": "NB1234", "gate": "D7"}
STOP_WORDING = Wording("sms-stop-v1", "STOP")


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Test settings (brand languages en, fr) with the shipped ``notifications:`` section."""
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["notifications"]
    return make_settings({"notifications": shipped})


@pytest.fixture
def connectors(sms: SmsConnector, telegram: TelegramConnector, whatsapp: WhatsAppConnector) -> dict[str, Connector]:
    return {"sms": sms, "telegram": telegram, "whatsapp": whatsapp}


def make_notifier(
    settings: Settings,
    redis_client: redis.Redis,
    engine: Engine,
    clock: Clock,
    connectors: dict[str, Connector],
    ingest: Ingest | None = None,
) -> Notifier:
    return Notifier(
        settings,
        ingest or Ingest(redis_client, settings),
        connectors,
        Notifications(engine, clock),
        CustomerLinks(engine, clock),
        ConsentBook(engine, clock),
        clock=clock,
    )


@pytest.fixture
def notifier(settings, redis_client, engine, clock, connectors) -> Notifier:
    return make_notifier(settings, redis_client, engine, clock, connectors)


def queued(redis_client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    """Every inbound entry waiting on the shard streams."""
    out: list[dict[str, Any]] = []
    for stream in keys_for(settings).all_streams():
        for _, fields in redis_client.xrange(stream):
            out.extend(json.loads(v) for v in fields.values() if isinstance(v, bytes) and v.startswith(b"{"))
    return out


def row_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(notifications_table)).scalar_one())


def link(links: CustomerLinks, clock: Clock, channel: str, raw_id: str, minutes: int) -> None:
    """``(channel, raw_id)`` confirmed the booking ``minutes`` after the clock's start."""
    start = clock.now
    clock.now = start + timedelta(minutes=minutes)
    links.link("booking", BOOKING.lower(), customer(channel, raw_id))
    clock.now = start


# -- the checks ---------------------------------------------------------------------------------
SMS_TO = {"recipient": ("sms", NUMBER)}
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown kind", {"kind": "gate_chnage", **SMS_TO}, "kind", "'gate_chnage'.*flight_update.*special_offer"),
    ("unknown variable", {"variables": {**FLIGHT, "gate": "D7"}, **SMS_TO}, "variables.gate", "not a variable"),
    ("missing variable", {"variables": {"flight": "NB1234"}, **SMS_TO}, "variables.status", "required"),
    ("blank variable", {"variables": {**FLIGHT, "status": " \t "}, **SMS_TO}, "variables.status", "empty"),
    ("lone surrogate", {"variables": {**FLIGHT, "flight": "NB\ud800"}, **SMS_TO}, "variables.flight", "surrogate"),
    ("too long", {"variables": {**FLIGHT, "status": "x" * 501}, **SMS_TO}, "variables.status", "501"),
    ("no recipient", {}, "recipient", "exactly one.*none"),
    ("two recipients", {"booking": BOOKING, **SMS_TO}, "recipient", "booking.*recipient"),
    ("bad sms number", {"recipient": ("sms", "06 12 34 56 78")}, "recipient", "international"),
    ("unknown channel id", {"recipient": ("fax", "12")}, "recipient", "unknown channel 'fax'"),
    ("long booking", {"booking": "B" * 65}, "booking", "1 to 64"),
    ("blank customer", {"customer": "   "}, "customer", "1 to 64"),
    ("other language", {"language": "de", **SMS_TO}, "language", "'de'.*'en', 'fr'"),
    ("unknown channel", {"channel": "fax", **SMS_TO}, "channel", "'fax'"),
]


@pytest.mark.parametrize("case, given, field, reason", INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_request_names_its_field_and_writes_nothing(
    notifier: Notifier, engine: Engine, redis_client, settings, case: str, given: dict[str, Any], field: str, reason
) -> None:
    request = NotifyRequest(**{"kind": "flight_update", "variables": FLIGHT, **given})
    with pytest.raises(InvalidNotification, match=reason) as caught:
        notifier.notify(request)
    assert caught.value.field == field, case
    assert row_count(engine) == 0 and queued(redis_client, settings) == []


def test_an_explicit_recipient_is_queued_on_its_normalised_id(notifier: Notifier, redis_client, settings) -> None:
    view = notifier.notify(NotifyRequest("flight_update", FLIGHT, recipient=("sms", "+33 6 12 34 56 78")))
    assert (view.state, view.channel, view.reason) == ("queued", "sms", None)
    row = notifier.notifications.get(view.id)
    assert row is not None and (row.customer_id, row.conversation_id) == (NUMBER, f"sms:{NUMBER}")
    assert row.delivery_key == f"notification:{view.id}" and row.variables == FLIGHT
    [event] = queued(redis_client, settings)
    assert (event["kind"], event["event"], event["payload"]) == ("event", "notification", view.id)
    assert (event["channel"], event["sender_id"], event["conversation_id"]) == ("sms", NUMBER, f"sms:{NUMBER}")
    assert event["message_id"] == f"notification:{view.id}"


def test_an_explicit_recipient_that_opted_out_is_refused_and_kept_on_the_row(
    notifier: Notifier, sms: SmsConnector, redis_client, settings
) -> None:
    sms.state.opt_out(f"sms:{NUMBER}", "keyword 'STOP'")
    view = notifier.notify(NotifyRequest("flight_update", FLIGHT, recipient=("sms", NUMBER)))
    assert view.state == "refused" and view.reason is not None and "opted out" in view.reason
    row = notifier.notifications.get(view.id)
    assert row is not None and (row.channel, row.customer_id, row.delivery_key) == ("sms", NUMBER, None)
    assert queued(redis_client, settings) == []


# -- the recipient by booking -------------------------------------------------------------------
def test_a_booking_nobody_confirmed_is_refused(notifier: Notifier, redis_client, settings) -> None:
    view = notifier.notify(NotifyRequest("gate_change", GATE, booking=" x7k9qz "))
    assert view.state == "refused"
    assert view.reason == f"no customer has confirmed booking {BOOKING} in a conversation"
    assert view.channel is None and queued(redis_client, settings) == []


def test_the_most_recent_identity_refused_falls_back_to_the_other(
    notifier: Notifier, sms: SmsConnector, clock: Clock, redis_client, settings
) -> None:
    link(notifier.links, clock, "telegram", CHAT, minutes=1)
    link(notifier.links, clock, "sms", NUMBER, minutes=30)  # the most recent
    sms.state.opt_out(f"sms:{NUMBER}", "keyword 'STOP'")
    view = notifier.notify(NotifyRequest("gate_change", GATE, booking=BOOKING))
    assert (view.state, view.channel, view.reason) == ("queued", "telegram", None)
    row = notifier.notifications.get(view.id)
    assert row is not None and (row.reference_kind, row.reference) == ("booking", BOOKING)
    assert (row.customer_id, row.conversation_id) == (CHAT, f"telegram:{CHAT}")
    [event] = queued(redis_client, settings)
    assert (event["channel"], event["sender_id"], event["payload"]) == ("telegram", CHAT, view.id)


def test_the_most_recent_identity_is_used_when_it_can_take_it(notifier: Notifier, clock: Clock) -> None:
    link(notifier.links, clock, "telegram", CHAT, minutes=1)
    link(notifier.links, clock, "sms", NUMBER, minutes=30)
    assert notifier.notify(NotifyRequest("gate_change", GATE, booking=BOOKING)).channel == "sms"
    preferred = NotifyRequest("gate_change", GATE, booking=BOOKING, channel="telegram", idempotency_key="k2")
    assert notifier.notify(preferred).channel == "telegram"


def test_every_identity_refused_is_refused_with_every_reason(
    notifier: Notifier, sms: SmsConnector, telegram: TelegramConnector, clock: Clock, redis_client, settings
) -> None:
    link(notifier.links, clock, "telegram", CHAT, minutes=1)
    link(notifier.links, clock, "sms", NUMBER, minutes=30)
    link(notifier.links, clock, "whatsapp", NUMBER, minutes=10)  # window closed, no gate_change template
    sms.state.opt_out(f"sms:{NUMBER}", "keyword 'STOP'")
    telegram.mark_blocked(CHAT, "my_chat_member: the customer blocked the bot")
    view = notifier.notify(NotifyRequest("gate_change", GATE, booking=BOOKING))
    assert view.state == "refused" and view.reason is not None
    parts = view.reason.split(" | ")
    assert [p.split(":", 1)[0] for p in parts] == ["sms", "whatsapp", "telegram"]
    assert "opted out" in parts[0] and "24-hour window" in parts[1] and "blocked the bot" in parts[2]
    assert queued(redis_client, settings) == []


def test_a_channel_switched_off_here_is_skipped(settings, redis_client, engine, clock, sms: SmsConnector) -> None:
    notifier = make_notifier(settings, redis_client, engine, clock, {"sms": sms})
    link(notifier.links, clock, "telegram", CHAT, minutes=30)
    link(notifier.links, clock, "sms", NUMBER, minutes=1)
    view = notifier.notify(NotifyRequest("gate_change", GATE, booking=BOOKING))
    assert (view.state, view.channel) == ("queued", "sms")


# -- consent ------------------------------------------------------------------------------------
def test_marketing_goes_only_to_a_customer_who_agreed(notifier: Notifier, clock: Clock, redis_client, settings) -> None:
    link(notifier.links, clock, "telegram", CHAT, minutes=1)
    offer = {"offer": "Paris from 49 EUR this weekend."}
    refused = notifier.notify(NotifyRequest("special_offer", offer, booking=BOOKING, idempotency_key="o1"))
    assert refused.state == "refused" and refused.reason == "telegram: no consent to marketing messages"
    who = customer("telegram", CHAT)
    notifier.consents.grant(who, "marketing", how="button", wording=Wording("mkt-v1", "Send me offers?"))
    view = notifier.notify(NotifyRequest("special_offer", offer, booking=BOOKING, idempotency_key="o2"))
    assert (view.state, view.channel) == ("queued", "telegram")
    row = notifier.notifications.get(view.id)
    assert row is not None and row.purpose == "marketing"
    assert len(queued(redis_client, settings)) == 1
    notifier.consents.withdraw(who, "marketing", how="words", wording=Wording("mkt-v1", "no more offers"))
    again = notifier.notify(NotifyRequest("special_offer", offer, booking=BOOKING, idempotency_key="o3"))
    assert again.reason == "telegram: withdrew consent to marketing messages"


def test_service_updates_withdrawn_refuse_service_kinds_with_the_date(notifier: Notifier, clock: Clock) -> None:
    link(notifier.links, clock, "telegram", CHAT, minutes=1)
    notifier.consents.withdraw(customer("telegram", CHAT), "service_updates", how="keyword", wording=STOP_WORDING)
    view = notifier.notify(NotifyRequest("gate_change", GATE, booking=BOOKING))
    assert view.state == "refused"
    assert view.reason == f"telegram: opted out of service updates on {clock.now:%Y-%m-%d}"


# -- idempotency and the queue ------------------------------------------------------------------
def test_the_same_idempotency_key_twice_gives_one_notification_and_one_event(
    notifier: Notifier, engine: Engine, redis_client, settings
) -> None:
    request = NotifyRequest("flight_update", FLIGHT, recipient=("sms", NUMBER), scope="apikey:7", idempotency_key="d1")
    first, again = notifier.notify(request), notifier.notify(request)
    assert first.id == again.id and again.state == "queued"
    assert row_count(engine) == 1 and len(queued(redis_client, settings)) == 1
    other_scope = notifier.notify(NotifyRequest(**{**request.__dict__, "scope": "apikey:8"}))
    assert other_scope.id != first.id and len(queued(redis_client, settings)) == 2
    with pytest.raises(IdempotencyConflict):
        notifier.notify(NotifyRequest(**{**request.__dict__, "variables": {**FLIGHT, "status": "cancelled"}}))


class FailingOnce(Ingest):
    """Redis refuses the first enqueue (as a restart would), then works."""

    failures = 1

    def accept(self, inbounds: Iterable[Inbound]) -> int:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("cannot enqueue: Redis at 127.0.0.1 is unreachable (test)")
        return super().accept(inbounds)


def test_a_queued_row_whose_enqueue_failed_is_queued_by_the_retry(
    settings, redis_client, engine: Engine, clock: Clock, connectors
) -> None:
    notifier = make_notifier(settings, redis_client, engine, clock, connectors, FailingOnce(redis_client, settings))
    request = NotifyRequest("flight_update", FLIGHT, recipient=("sms", NUMBER), idempotency_key="retry-me")
    with pytest.raises(StoreUnavailable):
        notifier.notify(request)
    assert row_count(engine) == 1 and queued(redis_client, settings) == []
    view = notifier.notify(request)
    assert view.state == "queued"
    [event] = queued(redis_client, settings)
    assert event["payload"] == view.id
    assert notifier.notify(request).id == view.id and len(queued(redis_client, settings)) == 1


def test_a_customer_reference_finds_the_identity_that_gave_it(notifier: Notifier, redis_client, settings) -> None:
    notifier.links.link("customer", "fq-00042", customer("telegram", CHAT))
    view = notifier.notify(NotifyRequest("check_in_open", {"flight": "NB1234"}, customer=" FQ-00042 "))
    assert (view.state, view.channel) == ("queued", "telegram")
    row = notifier.notifications.get(view.id)
    assert row is not None and (row.reference_kind, row.reference) == ("customer", "FQ-00042")
    assert len(queued(redis_client, settings)) == 1

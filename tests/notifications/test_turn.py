"""A notification's turn in the dialogue runtime (real Redis + SQLite, the keyword NLU): the event of a
queued notification becomes its one message, in the conversation's language, with the booking remembered;
a booking an action looked up links the customer to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import Engine, select

from bots.dialogue.actions import load_actions
from bots.dialogue.build import notification_turns
from bots.dialogue.runtime import ConversationRuntime
from bots.notifications import CustomerLinks, NewNotification, Notifications
from bots.notifications.events import NOTIFICATION_EVENT, event_message_id
from bots.settings import Settings
from bots.stores.models import messages
from connectors.base import Inbound
from tests.conftest import REPO
from tests.dialogue.conftest import ALWAYS_STAFFED, DOMAIN, inbound
from tests.dialogue.rules_nlu import RulesNLU

CHAT = "4242"
CONV = f"telegram:{CHAT}"
GATE = {"flight": "NB1234", "gate": "D7"}


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    """The example airline with the shipped ``notifications:`` section (brand languages en, fr)."""
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["notifications"]
    dialogue = {
        "domain_file": str(DOMAIN),
        "actions_module": "bots.airline.actions",
        "actions_options": {"database": str(tmp_path / "airline.db")},
        "action_timeout_seconds": 2,
    }
    return make_settings({"dialogue": dialogue, "handoff": ALWAYS_STAFFED, "notifications": shipped})


@pytest.fixture
def runtime(settings: Settings, redis_client: redis.Redis, sql_engine: Engine) -> ConversationRuntime:
    d = settings.dialogue
    return ConversationRuntime(
        settings=settings,
        redis=redis_client,
        engine=sql_engine,
        nlu=RulesNLU(),
        actions=load_actions(d.actions_module, settings, d.actions_options, d.action_timeout_seconds),
        notices=notification_turns(settings, sql_engine),
    )


def queue_notification(
    engine: Engine, kind: str = "gate_change", variables: dict[str, str] = GATE, booking: str | None = "X7K9QZ"
) -> str:
    """A queued notification (about ``booking``) to the Telegram chat; its id."""
    row, created = Notifications(engine).create(
        NewNotification(
            scope="cli",
            idempotency_key=None,
            request_hash=None,
            kind=kind,
            purpose="service",
            reference_kind="booking" if booking else None,
            reference=booking,
            channel="telegram",
            customer_id=CHAT,
            conversation_id=CONV,
            variables=variables,
            language=None,
            state="queued",
            reason=None,
            batch=None,
        )
    )
    assert created
    return row.id


def event(notification_id: str) -> Inbound:
    """The inbound the Notifier puts on the queue for a queued notification."""
    return Inbound(
        channel="telegram",
        sender_id=CHAT,
        conversation_id=CONV,
        message_id=event_message_id(notification_id),
        kind="event",
        event=NOTIFICATION_EVENT,
        payload=notification_id,
    )


def transcript(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(messages.c.direction, messages.c.message_id, messages.c.text, messages.c.data)
            .where(messages.c.conversation_id == CONV)
            .order_by(messages.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_a_notification_event_becomes_its_message_with_the_booking_remembered(
    runtime: ConversationRuntime, sql_engine: Engine
) -> None:
    notification_id = queue_notification(sql_engine)
    result = runtime.handle(event(notification_id))
    [out] = result.outbounds
    assert out.text == "Flight NB1234 now departs from gate D7."
    assert (out.channel, out.recipient, out.conversation_id) == ("telegram", CHAT, CONV)
    assert (out.kind, out.language, dict(out.variables)) == ("gate_change", "en", GATE)
    assert out.idempotency_key == f"notification:{notification_id}"
    state = runtime.store.load(CONV)
    assert state.memory["booking_ref"] == "X7K9QZ" and state.language == "en"
    [row] = transcript(sql_engine)
    assert row[:3] == ("out", f"notification:{notification_id}", out.text)
    assert row[3]["kind"] == "gate_change"


def test_the_notification_is_written_in_the_conversations_language(
    runtime: ConversationRuntime, sql_engine: Engine
) -> None:
    runtime.handle(inbound("Bonjour, je voudrais changer de siège", conv=CONV, channel="telegram"))
    assert runtime.store.load(CONV).language == "fr"
    notification_id = queue_notification(sql_engine)
    [out] = runtime.handle(event(notification_id)).outbounds
    assert (out.text, out.language) == ("Le vol NB1234 part désormais de la porte D7.", "fr")
    rows = transcript(sql_engine)
    assert [r[0] for r in rows].count("in") == 1  # the customer's message only, none for the event
    assert not any(r[0] == "in" and r[1] == event(notification_id).message_id for r in rows)
    assert rows[-1][:3] == ("out", f"notification:{notification_id}", out.text)


def test_a_redelivered_event_replays_the_same_message_without_a_second_row(
    runtime: ConversationRuntime, sql_engine: Engine
) -> None:
    notification_id = queue_notification(sql_engine)
    first = runtime.handle(event(notification_id))
    again = runtime.handle(event(notification_id))
    assert again.replayed and again.outbounds == first.outbounds
    assert len(transcript(sql_engine)) == 1


def test_an_event_of_no_queued_notification_sends_nothing(runtime: ConversationRuntime, sql_engine: Engine) -> None:
    result = runtime.handle(event("ntf_" + "0" * 32))
    assert result.outbounds == [] and transcript(sql_engine) == []


def test_a_booking_variable_is_remembered_and_the_addressed_reference_wins(
    runtime: ConversationRuntime, sql_engine: Engine
) -> None:
    by_variable = queue_notification(sql_engine, "travel_details", {"booking": "ab12cd"}, booking=None)
    [out] = runtime.handle(event(by_variable)).outbounds
    assert out.text.startswith("Your trip ab12cd is confirmed.")
    assert runtime.store.load(CONV).memory["booking_ref"] == "AB12CD"
    addressed = queue_notification(sql_engine, "travel_details", {"booking": "ab12cd"})
    runtime.handle(event(addressed))
    assert runtime.store.load(CONV).memory["booking_ref"] == "X7K9QZ"


def test_a_booking_an_action_looked_up_links_the_customer(runtime: ConversationRuntime, sql_engine: Engine) -> None:
    links = CustomerLinks(sql_engine)
    assert links.identities("booking", "X7K9QZ") == []
    result = runtime.handle(inbound("What is the status of my booking X7K9QZ?", conv=CONV, channel="telegram"))
    assert "surname" in result.outbounds[0].text
    assert links.identities("booking", "X7K9QZ") == [], "a reference alone, not verified, links nobody"
    result = runtime.handle(inbound("Dupont", conv=CONV, channel="telegram"))
    assert "Camille Dupont" in result.outbounds[0].text, "the bot answered"
    [who] = links.identities("booking", "x7k9qz")
    assert (who.channel, who.customer_id, who.conversation_id) == ("telegram", CHAT, CONV)

"""The runtime end to end on real Redis and SQLite: turns, redelivery, transcript, live events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bots.dialogue.runtime import ConversationRuntime
from bots.stores.models import conversations, messages

from .conftest import inbound

pytestmark = pytest.mark.integration


def texts(result) -> str:
    return " | ".join(o.text for o in result.outbounds)


def test_french_seat_change_from_first_message_to_confirmation(runtime: ConversationRuntime) -> None:
    r = runtime.handle(inbound("Bonjour, je voudrais changer de siège sur la réservation X7K9QZ"))
    assert "nom de famille du passager" in texts(r) and "Quel siège" not in texts(r)
    assert r.state.language == "fr" and r.state.flow and r.state.flow.name == "change_seat"
    r = runtime.handle(inbound("Dupont"))
    assert "Quel siège" in texts(r)
    assert r.state.language == "fr" and r.state.flow and r.state.flow.name == "change_seat"
    r = runtime.handle(inbound("15C"))
    assert "du siège 14C au siège 15C" in texts(r)
    assert [q.payload for q in r.outbounds[-1].quick_replies] == ["/affirm", "/deny"]
    r = runtime.handle(inbound("oui"))
    assert "maintenant le 15C" in texts(r)
    assert r.state.flow is None
    assert runtime.actions.api.find_booking("X7K9QZ").seat == "15C"


def test_outbounds_carry_idempotency_keys_and_addressing(runtime: ConversationRuntime) -> None:
    r = runtime.handle(inbound("hello", conv="test:42", message_id="abc"))
    assert r.outbounds and not r.replayed
    o = r.outbounds[0]
    assert (o.channel, o.recipient, o.conversation_id, o.idempotency_key) == ("test", "42", "test:42", "test:abc:0")
    assert [q.payload for q in o.quick_replies][:1] == ["/booking_status"]


def test_redelivered_message_replays_stored_replies_without_new_effects(
    runtime: ConversationRuntime, sql_engine
) -> None:
    runtime.handle(inbound("change my seat on booking X7K9QZ", message_id="1"))
    runtime.handle(inbound("Dupont", message_id="1s"))  # the identity step's surname
    runtime.handle(inbound("15C", message_id="2"))
    first = runtime.handle(inbound("yes", message_id="3"))
    assert "now 15C" in texts(first)
    again = runtime.handle(inbound("yes", message_id="3"))
    assert again.replayed and not first.replayed
    assert [o.to_dict() for o in again.outbounds] == [o.to_dict() for o in first.outbounds]
    assert again.state.turns == first.state.turns == 4
    with sql_engine.connect() as c:
        rows = c.execute(select(messages.c.direction, messages.c.message_id).order_by(messages.c.id)).all()
    assert len(rows) == len(set(rows)) == 4 + sum(1 for r in rows if r[0] == "out")
    assert ("in", "3") in rows and ("out", "test:3:0") in rows


def test_transcript_and_conversation_rows_are_written(runtime: ConversationRuntime, sql_engine) -> None:
    runtime.handle(inbound("bonjour", conv="test:fr1"))
    with sql_engine.connect() as c:
        conv = c.execute(select(conversations)).one()
        msgs = c.execute(select(messages).order_by(messages.c.id)).all()
    assert (conv.id, conv.language, conv.mode) == ("test:fr1", "fr", "bot")
    assert msgs[0].direction == "in" and msgs[0].data["nlu"]["intent"] == "greet"
    assert msgs[1].direction == "out" and msgs[1].text.startswith("Bonjour")


def test_live_events_are_published_for_the_console(runtime: ConversationRuntime, redis_client) -> None:
    sub = redis_client.pubsub()
    sub.subscribe(f"{runtime.settings.stores.key_prefix}:live")
    sub.get_message(timeout=1)  # the subscribe confirmation
    runtime.handle(inbound("hello", conv="test:live"))
    got = []
    for _ in range(10):
        m = sub.get_message(timeout=1)
        event = json.loads(m["data"]) if m and m["type"] == "message" else {}
        if event.get("conversation_id") == "test:live":  # the channel is shared by every Redis database
            got.append(event)
        if len(got) == 2:
            break
    sub.close()
    assert [e["direction"] for e in got] == ["in", "out"]
    assert got[0]["conversation_id"] == "test:live" and got[0]["nlu"]["intent"] == "greet"


def test_edits_and_channel_events_run_no_turn(runtime: ConversationRuntime) -> None:
    r = runtime.handle(inbound("hello", kind="edit"))
    assert r.outbounds == [] and r.nlu is None and r.state.turns == 0


def test_button_payload_is_read_as_its_intent(runtime: ConversationRuntime) -> None:
    r = runtime.handle(inbound("Change seat", payload="/change_seat"))
    assert r.nlu.intent == "change_seat" and r.nlu.confidence == 1.0
    assert "booking reference" in texts(r)


def test_keys_use_a_hash_tag_per_conversation(runtime: ConversationRuntime, redis_client) -> None:
    runtime.handle(inbound("hello", conv="whatsapp:+3161234"))
    assert redis_client.keys("*") == [b"bb:{whatsapp:+3161234}:state"]
    assert redis_client.ttl(b"bb:{whatsapp:+3161234}:state") > 0

"""Non-text messages through the runtime as the connectors give them (their captured fixtures):
a reply saying what the bot can read, nothing while a person has the conversation, a reaction
recorded and never answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bots.dialogue.runtime import ConversationRuntime
from bots.stores.models import messages
from connectors.base import Inbound
from connectors.meta import MetaAccounts, parse_delivery
from connectors.telegram import parse_update
from connectors.twilio import parse_message_form

from .conftest import inbound

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "connectors" / "fixtures"
META = MetaAccounts(page_id="104857600123456", instagram_id="17841400000000001", phone_number_id="109876543210987")


def fixture(name: str) -> Inbound:
    if name.startswith("telegram_"):
        [inb] = parse_update(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))
        return inb
    if name.startswith("twilio_"):
        return parse_message_form(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))
    [inb] = parse_delivery((FIXTURES / f"{name}.json").read_bytes(), META).inbounds
    return inb


def inbound_rows(runtime: ConversationRuntime, conv: str) -> list[tuple[str, dict]]:
    with runtime.engine.connect() as c:
        rows = c.execute(
            select(messages.c.text, messages.c.data)
            .where(messages.c.conversation_id == conv, messages.c.direction == "in")
            .order_by(messages.c.id)
        ).all()
    return [(r.text, r.data) for r in rows]


@pytest.mark.parametrize(
    "name, said",
    [
        ("telegram_message_sticker", "I can only read text"),
        ("telegram_message_location", "can't use locations yet"),
        ("twilio_whatsapp_location", "can't use locations yet"),
        ("meta_whatsapp_audio_voice", "can't listen"),
        ("meta_messenger_sticker", "I can only read text"),
    ],
)
def test_media_without_text_gets_one_reply_saying_what_the_bot_reads(
    runtime: ConversationRuntime, name: str, said: str
) -> None:
    inb = fixture(name)
    assert inb.attachments and not inb.text.strip()
    r = runtime.handle(inb)
    assert len(r.outbounds) == 1 and said in r.outbounds[0].text
    assert "didn't get that" not in r.outbounds[0].text
    [(_text, data)] = inbound_rows(runtime, inb.conversation_id)
    assert [a["kind"] for a in data["attachments"]] == [a.kind for a in inb.attachments]


def test_a_photo_with_a_caption_is_read_as_its_caption(runtime: ConversationRuntime) -> None:
    inb = fixture("telegram_message_photo")
    assert inb.text  # Telegram's caption is the message's text
    r = runtime.handle(inb)
    assert not any("Thanks for the picture" in o.text for o in r.outbounds)


def test_media_during_a_handoff_reaches_the_agent_and_the_bot_is_silent(
    runtime: ConversationRuntime, redis_client
) -> None:
    inb = fixture("telegram_message_sticker")
    conv = inb.conversation_id
    assert runtime.handle(inbound("I want to talk to a human", conv=conv)).state.mode == "waiting"
    sub = redis_client.pubsub()
    sub.subscribe(f"{runtime.settings.stores.key_prefix}:live")
    sub.get_message(timeout=1)
    r = runtime.handle(inb)
    assert r.outbounds == [] and r.state.mode == "waiting"
    live = []
    for _ in range(5):
        m = sub.get_message(timeout=1)
        event = json.loads(m["data"]) if m and m["type"] == "message" else {}
        if event.get("message_id") == inb.message_id:
            live.append(event)
            break
    sub.close()
    assert live and live[0]["attachments"][0]["kind"] == "sticker"  # the console sees what came
    assert inbound_rows(runtime, conv)[-1][1]["attachments"][0]["kind"] == "sticker"


@pytest.mark.parametrize("name", ["meta_whatsapp_reaction", "meta_messenger_reaction", "meta_instagram_reaction"])
def test_a_reaction_is_recorded_and_never_answered(runtime: ConversationRuntime, name: str) -> None:
    inb = fixture(name)
    assert (inb.kind, inb.event) == ("event", "reaction")
    runtime.handle(inbound("hello", conv=inb.conversation_id))
    r = runtime.handle(inb)
    assert r.outbounds == [] and r.state.turns == 1
    text, data = inbound_rows(runtime, inb.conversation_id)[-1]
    assert (text, data["kind"], data["event"]) == (inb.text, "event", "reaction")
    r = runtime.handle(inb)  # redelivered: still one row
    assert len(inbound_rows(runtime, inb.conversation_id)) == 2


def test_a_redelivered_sticker_is_answered_once(runtime: ConversationRuntime) -> None:
    inb = fixture("telegram_message_sticker")
    first = runtime.handle(inb)
    again = runtime.handle(inb)
    assert again.replayed and [o.text for o in again.outbounds] == [o.text for o in first.outbounds]


def test_a_short_answer_to_a_flow_question_is_not_taken_for_another_language(runtime: ConversationRuntime) -> None:
    runtime.handle(inbound("I want to change my seat on booking X7K9QZ", conv="test:name"))
    r = runtime.handle(inbound("hola necesito ayuda", conv="test:name"))
    assert not any("I only speak" in o.text for o in r.outbounds)
    r = runtime.handle(inbound("Perdón, pero no entiendo lo que me pide usted", conv="test:name"))
    assert "I only speak English and French" in r.outbounds[0].text

"""Agent actions: takeover, reply, note, assign, hand back, resolve; audit rows and live events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.desk import Conflict, Desk, InvalidInput, NotFound
from bots.live_events import live_channel
from bots.stores.models import audit_log, conversations, deliveries, messages

from .conftest import REFUSED, T0, add_conversation, add_message, make_desk, next_event, set_mode


def audit(engine, cid: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (r.actor, r.action)
            for r in conn.execute(
                select(audit_log.c.actor, audit_log.c.action).where(audit_log.c.subject == cid).order_by(audit_log.c.id)
            )
        ]


def row(engine, cid: str):
    with engine.connect() as conn:
        return conn.execute(select(conversations).where(conversations.c.id == cid)).one()


@pytest.fixture
def waiting(desk: Desk) -> str:
    add_conversation(desk.engine, "fake:cust1")
    add_message(desk.engine, "fake:cust1", "I want a human", intent="human_handoff")
    set_mode(desk, "fake:cust1", "waiting", T0)
    return "fake:cust1"


@pytest.fixture
def live(redis_client, settings):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live_channel(settings.stores.key_prefix))
    yield pubsub
    pubsub.close()


def test_takeover_assigns_and_a_second_takeover_conflicts(desk: Desk, people, waiting: str) -> None:
    ana, bob = people["ana"], people["bob"]
    summary = desk.takeover(waiting, ana)
    assert (summary.mode, summary.assigned_to, summary.assigned_name, summary.waiting_since) == (
        "human",
        ana.id,
        "Ana",
        None,
    )
    assert desk.store.load(waiting).mode == "human"
    assert audit(desk.engine, waiting)[-1] == (f"staff:{ana.id}", "mode:human")
    with pytest.raises(Conflict, match="assigned to Ana"):
        desk.takeover(waiting, bob)
    with pytest.raises(NotFound, match="no conversation 'fake:nobody'"):
        desk.takeover("fake:nobody", ana)


def test_reply_takes_over_sends_records_and_publishes(desk: Desk, people, waiting: str, fake_channel, live) -> None:
    ana = people["ana"]
    result = desk.reply(waiting, ana, "  Hello, I'm Ana. <b>How can I help?</b>\r\n ")
    assert (result.status, result.reason, result.took_over) == ("sent", None, True)
    text = "Hello, I'm Ana. <b>How can I help?</b>"
    [sent] = fake_channel.sent
    assert (sent["to"], sent["text"]) == ("cust1", text) and sent["key"].startswith("staff:")
    msg = result.message
    assert (msg.author, msg.staff_id, msg.author_name, msg.kind, msg.delivery, msg.text) == (
        "staff",
        ana.id,
        "Ana",
        "staff_reply",
        "sent",
        text,
    )
    with desk.engine.connect() as conn:
        stored = conn.execute(select(messages).where(messages.c.direction == "out")).one()
        status = conn.execute(
            select(deliveries.c.status).where(deliveries.c.idempotency_key == sent["key"])
        ).scalar_one()
    assert stored.message_id == sent["key"] and status == "sent"
    assert stored.data["author"] == "staff" and stored.data["staff_id"] == ana.id and stored.data["delivery"] == "sent"
    conv = row(desk.engine, waiting)
    assert (conv.mode, conv.assigned_to, conv.last_preview) == ("human", ana.id, text)
    assert audit(desk.engine, waiting)[-2:] == [(f"staff:{ana.id}", "mode:human"), (f"staff:{ana.id}", "reply")]
    event = next_event(live, "message")
    assert (event["author"], event["staff_id"], event["author_name"], event["direction"], event["text"]) == (
        "staff",
        ana.id,
        "Ana",
        "out",
        text,
    )
    # a second reply: no second takeover
    again = desk.reply(waiting, ana, "Anything else?")
    assert again.took_over is False and len(fake_channel.sent) == 2
    assert [a for a in audit(desk.engine, waiting) if a[1] == "mode:human"] == [(f"staff:{ana.id}", "mode:human")]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "text is empty"),
        ("   \n ", "text is empty"),
        ("a\x00b", "NUL"),
        ("bad \ud800 half", "lone surrogate"),
        ("x" * 4097, "4097 characters long; at most 4096"),
        (42, "must be a string"),
    ],
)
def test_bad_replies_are_refused_without_side_effects(
    desk: Desk, people, waiting: str, fake_channel, text, match
) -> None:
    with pytest.raises(InvalidInput, match=match):
        desk.reply(waiting, people["ana"], text)
    assert fake_channel.sent == [] and row(desk.engine, waiting).mode == "waiting"


def test_a_reply_of_exactly_4096_characters_and_emoji_is_accepted(
    desk: Desk, people, waiting: str, fake_channel
) -> None:
    text = "é" * 4094 + "🙂"
    assert desk.reply(waiting, people["ana"], text).status == "sent"
    assert fake_channel.sent[0]["text"] == text


def test_a_refused_send_returns_the_failure(settings, redis_client, sql_engine, fake_channel, clock, people) -> None:
    from tests.pipeline.fake_channel import FakeConnector

    desk = make_desk(settings, redis_client, sql_engine, {"fake": FakeConnector(fake_channel.url)}, clock)
    add_conversation(sql_engine, f"fake:{REFUSED}")
    result = desk.reply(f"fake:{REFUSED}", people["ana"], "hello?")
    assert result.status == "failed" and "invalid recipient" in (result.reason or "")
    assert result.message.delivery == "failed" and not result.delivered
    assert row(sql_engine, f"fake:{REFUSED}").mode == "human", "the agent still leads it"


def test_a_channel_without_connector_fails_the_send_not_the_request(desk: Desk, people) -> None:
    add_conversation(desk.engine, "gone:x1", channel="gone")
    result = desk.reply("gone:x1", people["ana"], "hi")
    assert result.status == "failed" and "no connector for channel 'gone'" in (result.reason or "")


def test_templates_are_refused_on_channels_without_a_window(desk: Desk, people, waiting: str) -> None:
    with pytest.raises(InvalidInput, match="channel 'fake' has no templates"):
        desk.reply(waiting, people["ana"], "hi", template_kind="reply")


def test_note_assign_and_their_audit_and_events(desk: Desk, people, waiting: str, live, fake_channel) -> None:
    ana, bob, ivy, old = people["ana"], people["bob"], people["ivy"], people["old"]
    note = desk.note(waiting, ana, "  VIP customer <script>  ")
    assert (note.text, note.author_name, note.staff_id) == ("VIP customer <script>", "Ana", ana.id)
    assert next_event(live, "note")["text"] == "VIP customer <script>"
    assert fake_channel.sent == [], "a note is never sent"
    with pytest.raises(InvalidInput, match="note is empty"):
        desk.note(waiting, ana, " ")
    summary = desk.assign(waiting, ana, bob.id)
    assert (summary.assigned_to, summary.assigned_name) == (bob.id, "Bob")
    event = next_event(live, "assign")
    assert (event["assigned_to"], event["assigned_name"], event["actor"]) == (bob.id, "Bob", f"staff:{ana.id}")
    with pytest.raises(InvalidInput, match="is an analyst"):
        desk.assign(waiting, ana, ivy.id)
    with pytest.raises(InvalidInput, match="is disabled"):
        desk.assign(waiting, ana, old.id)
    with pytest.raises(NotFound, match="no staff member with id 999"):
        desk.assign(waiting, ana, 999)
    assert audit(desk.engine, waiting)[-2:] == [(f"staff:{ana.id}", "note"), (f"staff:{ana.id}", "assign")]
    assert [n.text for n in desk.detail(waiting).notes] == ["VIP customer <script>"]


def test_handback_tells_the_customer_in_their_language(desk: Desk, people, fake_channel, live) -> None:
    add_conversation(desk.engine, "fake:marie", language="fr")
    set_mode(desk, "fake:marie", "waiting", T0)
    desk.takeover("fake:marie", people["ana"])
    summary = desk.handback("fake:marie", people["ana"])
    assert summary.mode == "bot" and desk.store.load("fake:marie").mode == "bot"
    assert [m["text"] for m in fake_channel.sent] == ["Vous êtes de retour avec l'assistant."]
    event = next_event(live, "message")
    assert event["author"] == "bot" and event["text"] == "Vous êtes de retour avec l'assistant."
    last = desk.detail("fake:marie").messages[-1]
    assert (last.author, last.kind, last.delivery) == ("bot", "handoff_returned", "sent")
    assert audit(desk.engine, "fake:marie")[-1] == (f"staff:{people['ana'].id}", "mode:bot")
    with pytest.raises(Conflict, match="cannot handback"):
        desk.handback("fake:marie", people["ana"])


def test_handback_sends_nothing_when_the_domain_has_no_such_response(
    make_settings, redis_client, sql_engine, fake_channel, clock, people
) -> None:
    from bots.dialogue.domain import load_domain
    from tests.pipeline.fake_channel import FakeConnector

    from .conftest import desk_config

    settings = make_settings(desk_config())
    desk = make_desk(settings, redis_client, sql_engine, {"fake": FakeConnector(fake_channel.url)}, clock)
    domain = load_domain(settings)
    desk.domain = domain.model_copy(
        update={"responses": {k: v for k, v in domain.responses.items() if k != "handoff_returned"}}
    )
    add_conversation(sql_engine, "fake:quiet")
    set_mode(desk, "fake:quiet", "human", T0)
    assert desk.handback("fake:quiet", people["ana"]).mode == "bot"
    assert fake_channel.sent == []


def test_resolve_and_reopen_by_takeover(desk: Desk, people, waiting: str, clock) -> None:
    clock.advance(minutes=3)
    summary = desk.resolve(waiting, people["ana"])
    assert summary.mode == "resolved" and summary.resolved_at == T0 + timedelta(minutes=3)
    with pytest.raises(Conflict, match="cannot resolve"):
        desk.resolve(waiting, people["ana"])
    assert desk.takeover(waiting, people["bob"]).mode == "human"
    assert [a for _, a in audit(desk.engine, waiting)] == ["mode:waiting", "mode:resolved", "mode:human"]

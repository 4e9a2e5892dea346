"""Handoff through the runtime: mode changes recorded with the transcript, live events, left messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bots.handoff.modes import Modes
from bots.live_events import live_channel
from bots.stores.models import audit_log, conversations, messages

from .conftest import inbound

pytestmark = pytest.mark.integration

MONDAY_NIGHT = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)


def _events(pubsub, conv: str) -> list[dict]:
    out = []
    while (m := pubsub.get_message(timeout=0.3)) is not None:
        if m["type"] == "message":
            e = json.loads(m["data"])
            if e.get("conversation_id") == conv:
                out.append(e)
    return out


def test_a_handoff_is_recorded_with_the_turn_and_published(make_runtime, redis_client, sql_engine) -> None:
    rt = make_runtime()
    pubsub = redis_client.pubsub()
    pubsub.subscribe(live_channel(rt.settings.stores.key_prefix))
    pubsub.get_message(timeout=1)
    r = rt.handle(inbound("I want to talk to a human", conv="test:h1", message_id="a"))
    assert r.state.mode == "waiting" and r.mode_change.reason == "human_request" and r.mode_change.actor == "customer"
    assert "number 1 in the queue" in r.outbounds[0].text
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:h1")).one()
        audit = conn.execute(select(audit_log.c.action).where(audit_log.c.subject == "test:h1")).scalars().all()
    assert row.mode == "waiting" and row.handoff_reason == "human_request" and row.waiting_since is not None
    assert row.last_message_at is not None and row.last_preview == "I want to talk to a human", "the customer's words"
    assert audit == ["mode:waiting"]
    events = _events(pubsub, "test:h1")
    assert [(e["type"], e.get("author") or e.get("mode")) for e in events] == [
        ("message", "customer"),
        ("mode", "waiting"),
        ("message", "bot"),
    ]
    assert events[1]["reason"] == "human_request" and events[1]["old"] == "bot"

    r = rt.handle(inbound("hello? " + "x" * 300, conv="test:h1", message_id="b"))
    assert r.outbounds == [] and r.mode_change is None
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:h1")).one()
    assert row.last_preview == ("hello? " + "x" * 300)[:200]
    assert [(e["type"], e["author"]) for e in _events(pubsub, "test:h1")] == [("message", "customer")]

    r = rt.handle(inbound("cancel", conv="test:h1", message_id="c"))
    assert r.state.mode == "bot" and r.mode_change.reason == "customer_cancel"
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:h1")).one()
    assert row.mode == "bot" and row.waiting_since is None
    pubsub.close()


def test_a_message_left_outside_hours_shows_as_waiting_for_staff(make_runtime, airline_settings, sql_engine) -> None:
    rt = make_runtime(settings=airline_settings(handoff={}), clock=lambda: MONDAY_NIGHT)
    rt.handle(inbound("I want to talk to a human", conv="test:left"))
    rt.handle(inbound("yes", conv="test:left"))
    r = rt.handle(inbound("Call me back about my refund please", conv="test:left", message_id="left1"))
    assert r.state.mode == "bot" and r.mode_change is None
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:left")).one()
        data = conn.execute(select(messages.c.data).where(messages.c.message_id == "left1")).scalar_one()
        audit = conn.execute(select(audit_log.c.action).where(audit_log.c.subject == "test:left")).scalars().all()
    assert row.mode == "bot" and row.handoff_reason == "left_message" and row.waiting_since is not None
    assert data["left_message"] is True and audit == ["message_left"]
    r = rt.handle(inbound("what's my baggage allowance?", conv="test:left"))
    assert "23 kg" in r.outbounds[0].text
    with sql_engine.connect() as conn:  # a later bot turn keeps it in the staff's list
        assert conn.execute(select(conversations.c.waiting_since).where(conversations.c.id == "test:left")).scalar_one()


def test_resolved_then_a_new_message_is_back_with_the_bot(make_runtime, sql_engine) -> None:
    rt = make_runtime()
    rt.handle(inbound("I want to talk to a human", conv="test:res"))
    modes = Modes(rt.store, sql_engine)
    modes.change("test:res", "test", "human", actor="staff:1", reason="takeover", assigned_to=1)
    assert rt.handle(inbound("thanks for the help", conv="test:res")).outbounds == []
    modes.change("test:res", "test", "resolved", actor="staff:1", reason="resolve")
    r = rt.handle(inbound("what's my baggage allowance?", conv="test:res"))
    assert r.state.mode == "bot" and r.mode_change.reason == "customer_returned" and r.mode_change.old == "resolved"
    assert "23 kg" in r.outbounds[0].text
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "test:res")).one()
    assert row.mode == "bot" and row.resolved_at is not None


def test_the_sentiment_of_each_message_is_kept_for_the_trigger(make_runtime) -> None:
    rt = make_runtime()
    r = rt.handle(inbound("I'm not happy", conv="test:sent"))
    assert r.state.history[-1]["sentiment"] == -0.7

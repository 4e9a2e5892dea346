"""The one mode-change function: validated, recorded in SQL with an audit row, published live."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from bots.dialogue.state import DialogueState
from bots.dialogue.store import StateStore
from bots.handoff.modes import InvalidTransition, Modes, transition
from bots.live_events import live_channel
from bots.stores.models import audit_log, conversations

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _conversation(engine, cid: str = "webchat:v1") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid, channel="webchat", customer_id="v1", mode="bot", created_at=NOW, updated_at=NOW
            )
        )


def _next_message(pubsub, timeout: float = 2.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            return message
    raise AssertionError("no live event published")


def test_transition_leaving_the_bot_drops_its_flow_and_question() -> None:
    from bots.dialogue.state import FlowState

    st = DialogueState.fresh("c1")
    st.flow = FlowState("change_seat", {"seat": "15C"})
    st.pending = "offer_human"
    change = transition(st, "waiting", channel="webchat", actor="customer", reason="human_request", at=NOW)
    assert (st.mode, st.flow, st.pending) == ("waiting", None, None)
    assert (change.old, change.new, change.waiting_since) == ("bot", "waiting", NOW)


@pytest.mark.parametrize("new", ["bot", "asleep"])
def test_transition_refuses_the_same_mode_and_unknown_modes(new: str) -> None:
    with pytest.raises(InvalidTransition, match=r"already in mode|not one of"):
        transition(DialogueState.fresh("c1"), new, channel="webchat", actor="bot", reason="x", at=NOW)


def test_modes_change_records_audits_and_publishes(redis_client, sql_engine) -> None:
    _conversation(sql_engine)
    store = StateStore(redis_client, prefix="t")
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live_channel("t"))
    modes = Modes(store, sql_engine, clock=lambda: NOW)

    modes.change("webchat:v1", "webchat", "human", actor="staff:7", reason="takeover", assigned_to=7)

    assert store.load("webchat:v1").mode == "human"
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations).where(conversations.c.id == "webchat:v1")).mappings().one()
        audit = conn.execute(select(audit_log)).mappings().all()
    assert (row["mode"], row["assigned_to"], row["waiting_since"]) == ("human", 7, None)
    assert [(a["actor"], a["action"], a["subject"]) for a in audit] == [("staff:7", "mode:human", "webchat:v1")]
    assert audit[0]["detail"] == {"from": "bot", "to": "human", "reason": "takeover", "assigned_to": 7}
    event = json.loads(_next_message(pubsub)["data"])
    assert (event["type"], event["mode"], event["old"], event["assigned_to"]) == ("mode", "human", "bot", 7)


def test_modes_change_with_expect_leaves_other_modes_alone(redis_client, sql_engine) -> None:
    _conversation(sql_engine)
    store = StateStore(redis_client, prefix="t")
    modes = Modes(store, sql_engine, clock=lambda: NOW)
    with pytest.raises(InvalidTransition, match="not waiting"):
        modes.change("webchat:v1", "webchat", "bot", actor="system", reason="wait_timeout", expect=("waiting",))
    assert store.load("webchat:v1").mode == "bot"
    # the lock was released: the next change goes through at once
    modes.change("webchat:v1", "webchat", "waiting", actor="customer", reason="human_request")
    with sql_engine.connect() as conn:
        row = conn.execute(select(conversations.c.waiting_since, conversations.c.handoff_reason)).one()
    assert row.handoff_reason == "human_request" and row.waiting_since is not None


def test_a_conversation_whose_state_expired_keeps_its_recorded_mode(redis_client, sql_engine) -> None:
    _conversation(sql_engine)
    store = StateStore(redis_client, prefix="t")
    modes = Modes(store, sql_engine, clock=lambda: NOW)
    modes.change("webchat:v1", "webchat", "human", actor="staff:7", reason="takeover")
    store.delete("webchat:v1")  # the dialogue state's TTL ran out while a person was answering

    modes.change("webchat:v1", "webchat", "bot", actor="staff:7", reason="handback", expect=("human",))
    assert store.load("webchat:v1").mode == "bot"

"""Inbox views, counts, filters and transcript search (SQLite here, PostgreSQL in test_inbox_pg)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bots.desk import Desk, InvalidInput

from .conftest import T0, add_conversation, add_message, set_mode


def populate(desk: Desk, ana_id: int) -> None:
    e = desk.engine
    for cid, lang in [
        ("fake:a", "en"),
        ("fake:b", "fr"),
        ("fake:c", "en"),
        ("fake:d", "en"),
        ("fake:e", "en"),
        ("other:f", "en"),
    ]:
        add_conversation(e, cid, channel=cid.split(":")[0], language=lang)
    add_message(e, "fake:a", "Where is my BAG?", intent="baggage_info", at=T0 + timedelta(minutes=1))
    add_message(e, "fake:b", "Je veux un remboursement de 100% svp", at=T0 + timedelta(minutes=2))
    add_message(e, "fake:c", "my seat_number is wrong", at=T0 + timedelta(minutes=3))
    add_message(e, "fake:d", "thanks, all good", at=T0 + timedelta(minutes=4))
    add_message(e, "fake:e", "hello", at=T0 + timedelta(minutes=5))
    add_message(e, "other:f", "100 percent sure, a person please", at=T0 + timedelta(minutes=6))
    set_mode(desk, "fake:a", "waiting", T0 + timedelta(minutes=10))
    set_mode(desk, "fake:b", "waiting", T0 + timedelta(minutes=5))  # waits longer: first
    set_mode(
        desk,
        "fake:c",
        "human",
        T0 + timedelta(minutes=7),
        actor=f"staff:{ana_id}",
        reason="takeover",
        assigned_to=ana_id,
    )
    set_mode(desk, "fake:d", "resolved", T0 + timedelta(minutes=8))
    set_mode(desk, "other:f", "waiting", T0 + timedelta(minutes=12))


def ids(items) -> list[str]:
    return [i.id for i in items]


def test_views_and_counts(desk: Desk, people, clock) -> None:
    ana, bob = people["ana"], people["bob"]
    populate(desk, ana.id)
    clock.now = T0 + timedelta(minutes=20)
    waiting = desk.inbox("waiting", ana)
    assert ids(waiting) == ["fake:b", "fake:a", "other:f"], "oldest first"
    assert [w.wait_seconds for w in waiting] == [15 * 60, 10 * 60, 8 * 60]
    assert waiting[0].waiting_since == T0 + timedelta(minutes=5)
    assert waiting[0].handoff_reason == "human_request" and waiting[0].last_preview.startswith("Je veux")
    assert ids(desk.inbox("mine", ana)) == ["fake:c"]
    mine = desk.inbox("mine", ana)[0]
    assert (mine.assigned_to, mine.assigned_name, mine.mode, mine.wait_seconds) == (ana.id, "Ana", "human", None)
    assert desk.inbox("mine", bob) == []
    assert ids(desk.inbox("open", ana)) == ["fake:b", "fake:a", "other:f", "fake:c"]
    assert ids(desk.inbox("resolved", ana)) == ["fake:d"]
    assert desk.inbox("resolved", ana)[0].resolved_at == T0 + timedelta(minutes=8)
    assert set(ids(desk.inbox("all", ana))) == {"fake:a", "fake:b", "fake:c", "fake:d", "fake:e", "other:f"}
    assert ids(desk.inbox("all", ana))[0] == "other:f", "most recent first"
    assert desk.counts(ana) == {"waiting": 3, "mine": 1, "open": 4, "resolved": 1, "all": 6}
    assert desk.counts(bob)["mine"] == 0


def test_filters_and_paging(desk: Desk, people) -> None:
    ana = people["ana"]
    populate(desk, ana.id)
    assert ids(desk.inbox("waiting", ana, channel="other")) == ["other:f"]
    assert ids(desk.inbox("waiting", ana, language="fr")) == ["fake:b"]
    assert ids(desk.inbox("all", ana, mode="bot")) == ["fake:e"]
    assert ids(desk.inbox("open", ana, mode="human")) == ["fake:c"]
    assert ids(desk.inbox("waiting", ana, limit=1, offset=1)) == ["fake:a"]
    with pytest.raises(InvalidInput, match="view 'later' is not one of waiting, mine, open, resolved, all"):
        desk.inbox("later", ana)
    with pytest.raises(InvalidInput, match="mode 'asleep' is not one of"):
        desk.inbox("all", ana, mode="asleep")
    with pytest.raises(InvalidInput, match="limit must be"):
        desk.inbox("all", ana, limit=0)


def test_search_is_case_insensitive_and_escapes_like_wildcards(desk: Desk, people) -> None:
    ana = people["ana"]
    populate(desk, ana.id)
    assert ids(desk.inbox("all", ana, q="bag")) == ["fake:a"]
    assert ids(desk.inbox("all", ana, q="WHERE IS")) == ["fake:a"]
    assert ids(desk.inbox("all", ana, q="100%")) == ["fake:b"], "% is literal"
    assert ids(desk.inbox("all", ana, q="%")) == ["fake:b"]
    assert ids(desk.inbox("all", ana, q="seat_")) == ["fake:c"], "_ is literal"
    assert ids(desk.inbox("all", ana, q="s_a")) == [], "not a wildcard for seat"
    assert ids(desk.inbox("waiting", ana, q="please")) == ["other:f"]
    assert ids(desk.inbox("waiting", ana, q="nothing like it")) == []
    assert len(desk.inbox("all", ana, q="   ")) == 6, "a blank search is no search"
    with pytest.raises(InvalidInput, match="NUL"):
        desk.inbox("all", ana, q="a\x00b")


def test_a_message_left_outside_hours_waits_in_the_inbox(desk: Desk, people, clock) -> None:
    from sqlalchemy import update

    from bots.stores.models import conversations

    add_conversation(desk.engine, "fake:night")
    add_message(desk.engine, "fake:night", "Please call me back about my refund", at=T0)
    with desk.engine.begin() as conn:  # what the runtime records when a customer leaves a message
        conn.execute(
            update(conversations)
            .where(conversations.c.id == "fake:night")
            .values(waiting_since=T0, handoff_reason="left_message")
        )
    clock.now = T0 + timedelta(hours=9)
    [left] = desk.inbox("waiting", people["ana"])
    assert (left.id, left.mode, left.handoff_reason, left.wait_seconds) == (
        "fake:night",
        "bot",
        "left_message",
        9 * 3600,
    )
    assert desk.counts(people["ana"])["open"] == 1
    desk.takeover("fake:night", people["ana"])
    assert desk.inbox("waiting", people["ana"]) == []

"""The inbox queries and the transcript search on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bots.desk import Desk

from .conftest import T0, add_message, make_desk
from .test_inbox import ids, populate


def test_inbox_and_search_on_postgresql(settings, redis_client, pg_engine, clock) -> None:
    from bots.staff.accounts import Accounts

    accounts = Accounts(pg_engine)
    ana = accounts.add("ana@nimbus.example", "agent", name="Ana")
    desk: Desk = make_desk(settings, redis_client, pg_engine, {}, clock)
    populate(desk, ana.id)
    add_message(pg_engine, "fake:e", "Ünïcode ÉCOLE", at=T0 + timedelta(minutes=9))
    clock.now = T0 + timedelta(minutes=20)
    waiting = desk.inbox("waiting", ana)
    assert ids(waiting) == ["fake:b", "fake:a", "other:f"]
    assert waiting[0].wait_seconds == 15 * 60 and waiting[0].waiting_since.tzinfo is not None
    assert ids(desk.inbox("mine", ana)) == ["fake:c"] and desk.inbox("mine", ana)[0].assigned_name == "Ana"
    assert ids(desk.inbox("open", ana)) == ["fake:b", "fake:a", "other:f", "fake:c"]
    assert desk.counts(ana) == {"waiting": 3, "mine": 1, "open": 4, "resolved": 1, "all": 6}
    assert ids(desk.inbox("all", ana, q="WHERE is")) == ["fake:a"]
    assert ids(desk.inbox("all", ana, q="100%")) == ["fake:b"]
    assert ids(desk.inbox("all", ana, q="seat_")) == ["fake:c"]
    assert ids(desk.inbox("all", ana, q="s_a")) == [], "not a wildcard for seat"
    assert ids(desk.inbox("all", ana, q="école")) == ["fake:e"], "ILIKE folds non-ASCII case on PostgreSQL"
    assert ids(desk.inbox("waiting", ana, language="fr")) == ["fake:b"]

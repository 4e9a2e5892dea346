"""Business hours (pure), console presence (real Redis), the queue and availability (real SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from bots.handoff.hours import BusinessHours, hours_from_settings
from bots.handoff.presence import Presence
from bots.handoff.queue import availability, position, waiting_count
from bots.stores.models import conversations

PARIS = ZoneInfo("Europe/Paris")
HOURS = BusinessHours(
    {"mon": ["08:00-12:00", "14:00-20:00"], "tue": ["08:00-20:00"], "sat": ["22:00-24:00"]}, "Europe/Paris"
)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    "at,open_",
    [
        (paris(2026, 3, 2, 7, 59), False),
        (paris(2026, 3, 2, 8, 0), True),
        (paris(2026, 3, 2, 12, 0), False),
        (paris(2026, 3, 2, 19, 59), True),
        (paris(2026, 3, 2, 20, 0), False),
        (paris(2026, 3, 4, 10, 0), False),
        (paris(2026, 3, 7, 23, 59), True),
    ],
)
def test_is_open(at: datetime, open_: bool) -> None:
    assert HOURS.is_open(at) is open_
    assert HOURS.is_open(at.astimezone(UTC)) is open_  # any zone in, business zone used


def test_next_open() -> None:
    assert HOURS.next_open(paris(2026, 3, 2, 9, 0)) == paris(2026, 3, 2, 9, 0)  # open now
    assert HOURS.next_open(paris(2026, 3, 2, 12, 30)) == paris(2026, 3, 2, 14, 0)  # lunch
    assert HOURS.next_open(paris(2026, 3, 2, 21, 0)) == paris(2026, 3, 3, 8, 0)  # tomorrow
    assert HOURS.next_open(paris(2026, 3, 3, 21, 0)) == paris(2026, 3, 7, 22, 0)  # Saturday night
    assert BusinessHours({}, "UTC").next_open(paris(2026, 3, 3, 21, 0)) is None


def test_next_open_across_a_dst_change() -> None:
    # Europe/Paris moves to summer time on Sunday 2026-03-29
    nxt = HOURS.next_open(paris(2026, 3, 28, 12, 0))
    assert nxt == paris(2026, 3, 28, 22, 0)
    assert HOURS.next_open(datetime(2026, 3, 29, 23, 0, tzinfo=UTC)).utcoffset() == timedelta(hours=2)


def test_hours_come_from_the_settings(make_settings) -> None:
    s = make_settings({"brand": {"timezone": "Europe/Paris"}, "handoff": {"business_hours": {"sun": ["10:00-11:00"]}}})
    h = hours_from_settings(s)
    assert h.zone == PARIS and h.is_open(paris(2026, 3, 8, 10, 30)) and not h.is_open(paris(2026, 3, 2, 10, 30))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_presence_counts_recent_beats(redis_client) -> None:
    clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    p = Presence(redis_client, "bbt", 90, clock)
    assert p.online() == 0
    p.beat(1)
    p.beat("2")
    assert p.online() == 2 and set(p.online_ids()) == {"1", "2"}
    clock.at += timedelta(seconds=60)
    p.beat(1)
    clock.at += timedelta(seconds=60)  # 2's beat is 120 s old
    assert p.online() == 1 and p.online_ids() == ["1"]
    p.drop(1)
    assert p.online() == 0


def _waiting(engine, cid: str, since: datetime, mode: str = "waiting") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid,
                channel="test",
                customer_id=cid,
                mode=mode,
                created_at=since,
                updated_at=since,
                waiting_since=since,
            )
        )


def test_queue_position_is_oldest_first(sql_engine) -> None:
    t = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    _waiting(sql_engine, "b", t + timedelta(minutes=1))
    _waiting(sql_engine, "a", t)
    _waiting(sql_engine, "c", t + timedelta(minutes=2))
    _waiting(sql_engine, "left", t, mode="bot")  # a message left outside hours: not in the live queue
    assert waiting_count(sql_engine) == 3
    assert [position(sql_engine, c) for c in ("a", "b", "c", "left", "nope")] == [1, 2, 3, 0, 0]


def test_availability(make_settings, redis_client, sql_engine) -> None:
    s = make_settings(
        {"handoff": {"minutes_per_customer": 5}}
    )  # default hours Mon-Fri 08-20, Sat 09-17 (brand.timezone)
    clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    p = Presence(redis_client, s.stores.key_prefix, s.handoff.presence_seconds, clock)
    a = availability(s, p, sql_engine, clock())
    assert a.open_now and not a.staffed and a.back_at is None  # nobody signed in
    p.beat(7)
    _waiting(sql_engine, "x", clock() - timedelta(minutes=3))
    a = availability(s, p, sql_engine, clock())
    assert a.staffed and a.agents_online == 1 and a.position == 2 and a.expected_wait_minutes == 10
    closed = availability(s, p, sql_engine, datetime(2026, 3, 7, 18, 0, tzinfo=UTC))
    assert not closed.staffed and closed.back_at == datetime(2026, 3, 9, 8, 0, tzinfo=ZoneInfo(s.brand.timezone))
    relaxed = make_settings({"handoff": {"require_agent_online": False}})
    p.drop(7)
    assert availability(relaxed, p, sql_engine, clock()).staffed

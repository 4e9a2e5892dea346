from __future__ import annotations

from datetime import date

import pytest

from bots.insights.filters import Filters

TODAY = date(2026, 11, 30)


def test_defaults_to_the_last_30_days() -> None:
    f = Filters.from_query({}, today=lambda: TODAY)
    assert (f.start, f.end, f.days) == (date(2026, 11, 1), TODAY, 30)
    assert f.to_query() == {"from": "2026-11-01", "to": "2026-11-30"}


def test_round_trip_and_previous() -> None:
    q = {
        "from": "2026-11-01",
        "to": "2026-11-07",
        "channel": "sms",
        "language": "fr",
        "intent": "refund",
        "flow": "refund",
        "agent": "7",
    }
    f = Filters.from_query(q)
    assert f == Filters(date(2026, 11, 1), date(2026, 11, 7), "sms", "fr", "refund", "refund", 7)
    assert f.to_query() == q and Filters.from_query(f.to_query()) == f
    p = f.previous()
    assert (p.start, p.end, p.channel, p.agent) == (date(2026, 10, 25), date(2026, 10, 31), "sms", 7)
    assert f.since.isoformat() == "2026-11-01T00:00:00+00:00" and f.until.isoformat() == "2026-11-08T00:00:00+00:00"


@pytest.mark.parametrize(
    "query,name",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-08", "to": "2026-11-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"agent": "seven"}, "agent"),
        ({"channel": "x" * 101}, "channel"),
        ({"intent": "a\x00b"}, "intent"),
    ],
)
def test_errors_name_the_parameter(query: dict[str, str], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}:"):
        Filters.from_query(query, today=lambda: TODAY)


def test_blank_values_are_no_filter_and_last_full_week() -> None:
    f = Filters.from_query({"from": "2026-11-01", "to": "2026-11-07", "channel": " ", "agent": ""})
    assert f.channel is None and f.agent is None
    week = Filters.last_full_week(TODAY)  # a Monday: the week before
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert Filters.last_full_week(date(2026, 11, 29)).start == date(2026, 11, 16)  # a Sunday

"""``link_figures``: exact numbers on SQLite and PostgreSQL, period bounds and the channel filter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert

from bots.insights.filters import Filters
from bots.insights.link_figures import link_figures
from bots.links.tables import link_clicks, links

pytestmark = pytest.mark.integration


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


LINKS = [
    # code, channel, created
    ("a1aaaaaaaa", "telegram", at(2026, 11, 10, 10)),
    ("a2aaaaaaaa", "telegram", at(2026, 11, 20, 23, 59, 59)),
    ("b1bbbbbbbb", "whatsapp", at(2026, 11, 15)),
    ("c0cccccccc", "telegram", at(2026, 10, 31, 23)),  # sent before the period
    ("d9dddddddd", "webchat", at(2026, 12, 1)),  # sent after it
]
CLICKS = [
    # code, at, first, forwarded
    ("a1aaaaaaaa", at(2026, 11, 10, 11), True, False),
    ("a1aaaaaaaa", at(2026, 11, 11), False, True),
    ("a1aaaaaaaa", at(2026, 11, 12), False, False),
    ("a2aaaaaaaa", at(2026, 11, 30, 23, 59, 59), True, False),  # last second of the period
    ("c0cccccccc", at(2026, 11, 1), False, True),  # a click in the period on a link sent before it
    ("b1bbbbbbbb", at(2026, 11, 15, 8), True, False),
    ("d9dddddddd", at(2026, 12, 1), True, False),  # first second after the period
]


@pytest.fixture
def world(engine):
    with engine.begin() as conn:
        conn.execute(
            insert(links),
            [
                {"code": c, "target": "https://example.com/", "channel": ch, "campaign": "replies", "created_at": t}
                for c, ch, t in LINKS
            ],
        )
        conn.execute(
            insert(link_clicks),
            [
                {"code": c, "at": t, "ua_family": "chrome", "first_click": f, "forwarded": fw, "referrer_less": True}
                for c, t, f, fw in CLICKS
            ],
        )
    return engine


NOVEMBER = Filters(date(2026, 11, 1), date(2026, 11, 30))


def test_figures_of_a_period(world) -> None:
    with world.connect() as conn:
        got = link_figures(conn, NOVEMBER)
    assert got == {
        "sent": 3,
        "clicks": 6,
        "forwarded_clicks": 2,
        "by_channel": {
            "telegram": {"sent": 2, "clicks": 5, "forwarded_clicks": 2},
            "whatsapp": {"sent": 1, "clicks": 1, "forwarded_clicks": 0},
        },
    }


def test_figures_of_one_channel_and_of_an_empty_period(world) -> None:
    with world.connect() as conn:
        whatsapp = link_figures(conn, Filters(date(2026, 11, 1), date(2026, 11, 30), channel="whatsapp"))
        december = link_figures(conn, Filters(date(2026, 12, 2), date(2026, 12, 31)))
        first_day = link_figures(conn, Filters(date(2026, 12, 1), date(2026, 12, 1)))
    assert whatsapp == {
        "sent": 1,
        "clicks": 1,
        "forwarded_clicks": 0,
        "by_channel": {"whatsapp": {"sent": 1, "clicks": 1, "forwarded_clicks": 0}},
    }
    assert december == {"sent": 0, "clicks": 0, "forwarded_clicks": 0, "by_channel": {}}
    assert first_day["by_channel"] == {"webchat": {"sent": 1, "clicks": 1, "forwarded_clicks": 0}}

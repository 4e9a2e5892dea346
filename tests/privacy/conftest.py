"""Fixtures of the privacy tests: one engine per SQL backend (SQLite file, fresh PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots.privacy import ConsentBook, Pseudonyms, Signals, Wording

SECRET = "test-analytics-secret-0123456789"
FEEDBACK_WORDING = Wording("feedback-1", "May we learn from this conversation (anonymised)?", "en")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest):
    """A migrated database on each backend (PostgreSQL: a database of its own, dropped after)."""
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def pseudonyms() -> Pseudonyms:
    return Pseudonyms(SECRET)


class Clock:
    """A settable clock (timezone-aware)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


@pytest.fixture
def book(engine, clock) -> ConsentBook:
    return ConsentBook(engine, clock)


@pytest.fixture
def signals(engine, pseudonyms, clock) -> Signals:
    return Signals(engine, pseudonyms, clock)

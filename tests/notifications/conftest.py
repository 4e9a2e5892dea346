"""Notification store fixtures: one engine per SQL backend (SQLite file, fresh PostgreSQL), a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bots.notifications import CustomerLinks, Notifications


class Clock:
    """A settable clock (aware UTC)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database on each backend (PostgreSQL: a database of its own, dropped after)."""
    engine: Engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    return engine


@pytest.fixture
def store(engine: Engine, clock: Clock) -> Notifications:
    return Notifications(engine, clock)


@pytest.fixture
def links(engine: Engine, clock: Clock) -> CustomerLinks:
    return CustomerLinks(engine, clock)

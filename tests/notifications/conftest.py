"""Notification store fixtures: one engine per SQL backend (SQLite file, fresh PostgreSQL), a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bots.notifications import CustomerLinks, Notifications
from tests.support.clock import SettableClock


class Clock(SettableClock):
    """A settable clock (aware UTC)."""

    def __init__(self) -> None:
        super().__init__(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(any_engine: Engine) -> Engine:
    """A migrated database on each backend (PostgreSQL: a database of its own, dropped after)."""
    return any_engine


@pytest.fixture
def store(engine: Engine, clock: Clock) -> Notifications:
    return Notifications(engine, clock)


@pytest.fixture
def links(engine: Engine, clock: Clock) -> CustomerLinks:
    return CustomerLinks(engine, clock)

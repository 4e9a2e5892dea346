"""API key fixtures: the store on each SQL backend (SQLite file, fresh PostgreSQL) with a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bots.apikeys import ApiKeys, store
from tests.support.clock import SettableClock

#: a second scope for the tests of scope checks (brandbot itself knows only "notify" so far).
OTHER_SCOPE = "reports"


class Clock(SettableClock):
    """A settable clock (aware UTC)."""

    def __init__(self) -> None:
        super().__init__(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database on each backend (PostgreSQL: a database of its own, dropped after)."""
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def apikeys(engine: Engine, clock: Clock) -> ApiKeys:
    return ApiKeys(engine, clock)


@pytest.fixture
def two_scopes(monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    """Pretend brandbot knows a second scope, so that a key can lack the one a view needs."""
    scopes = (*store.SCOPES, OTHER_SCOPE)
    monkeypatch.setattr(store, "SCOPES", scopes)
    return scopes

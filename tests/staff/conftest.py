"""Staff fixtures: accounts on a real SQL database, a cheap (but real) argon2id hasher."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from bots.staff.accounts import Accounts

PASSWORD = "correct horse battery"


@pytest.fixture
def cheap_hasher() -> PasswordHasher:
    """argon2id with small costs: the same algorithm and code path, milliseconds per hash."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest):
    """The migrated SQLite database, then PostgreSQL (skipped locally without DATABASE_URL_PG)."""
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


class Clock:
    """A settable clock (aware UTC)."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(sql_engine, cheap_hasher, clock) -> Accounts:
    return Accounts(sql_engine, clock=clock, hasher=cheap_hasher)

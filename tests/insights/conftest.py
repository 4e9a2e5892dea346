from __future__ import annotations

import pytest
from sqlalchemy import Engine

from .seed import seed


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database of each supported kind (PostgreSQL: a fresh database of its own)."""
    engine: Engine = request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")
    return engine


@pytest.fixture
def seeded(any_engine: Engine) -> Engine:
    seed(any_engine)
    return any_engine

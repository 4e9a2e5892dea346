"""Migrations build the durable store on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from bots.stores.sql import current_revision, head_revision, make_engine, upgrade

EXPECTED = {"conversations", "messages", "deliveries", "audit_log"}


def test_upgrade_creates_the_schema_on_sqlite_and_is_idempotent(sqlite_url) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= EXPECTED
    assert current_revision(engine) == head_revision()


@pytest.mark.integration
@pytest.mark.postgres
def test_upgrade_creates_the_schema_on_postgresql(pg_engine) -> None:
    upgrade(pg_engine)  # again: idempotent
    assert set(inspect(pg_engine).get_table_names()) >= EXPECTED
    assert current_revision(pg_engine) == head_revision()

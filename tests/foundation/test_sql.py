"""Migrations build the durable store on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from bots.stores.sql import current_revision, head_revision, make_engine, upgrade

EXPECTED = {"conversations", "messages", "deliveries", "audit_log"}


def test_upgrade_creates_the_schema_on_sqlite_and_is_idempotent(sqlite_url) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    upgrade(engine)
    assert EXPECTED <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision()


@pytest.mark.integration
@pytest.mark.postgres
def test_upgrade_creates_the_schema_on_postgresql(pg_url) -> None:
    name = f"brandbot_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(pg_url.rsplit("/", 1)[0] + "/" + name)
    try:
        upgrade(engine)
        assert EXPECTED <= set(inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()

"""Migration 0009_notifications creates exactly what bots.stores.models declares, and reverts."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

import bots.insights.rollup
import bots.links.tables
import bots.privacy.tables  # noqa: F401 - the whole metadata, as the migrations see it
from bots.stores.models import metadata
from bots.stores.sql import _alembic_config, current_revision, head_revision, upgrade

OURS = ("notifications", "customer_links", "error_message")


def test_the_migration_matches_the_tables_and_downgrades(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = [
            d for d in compare_metadata(MigrationContext.configure(conn), metadata) if any(n in repr(d) for n in OURS)
        ]
        uniques = {u["name"] for u in engine.dialect.get_unique_constraints(conn, "notifications")}
        uniques |= {u["name"] for u in engine.dialect.get_unique_constraints(conn, "customer_links")}
        indexes = {i["name"] for i in engine.dialect.get_indexes(conn, "customer_links")}
    assert diffs == []
    assert {"uq_notifications_scope_idempotency_key", "uq_customer_links_reference_identity"} <= uniques
    assert {"ix_customer_links_reference", "ix_customer_links_conversation_id"} <= indexes

    command.downgrade(_alembic_config(engine), "0008_api_keys")
    with engine.connect() as conn:
        assert not {"notifications", "customer_links"} & set(engine.dialect.get_table_names(conn))
        assert "error_message" not in {c["name"] for c in engine.dialect.get_columns(conn, "deliveries")}
        deliveries_uniques = {u["name"] for u in engine.dialect.get_unique_constraints(conn, "deliveries")}
    assert "uq_deliveries_idempotency_key" in deliveries_uniques, "the batch rebuild kept the constraint"

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diffs = [
            d for d in compare_metadata(MigrationContext.configure(conn), metadata) if any(n in repr(d) for n in OURS)
        ]
    assert diffs == []

"""Migration 0008_api_keys creates exactly what bots.stores.models declares for api_keys, and reverts."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bots.insights.rollup
import bots.links.tables
import bots.privacy.tables  # noqa: F401 - the whole metadata, as the migrations see it
from bots.stores.models import api_keys, metadata
from bots.stores.sql import _alembic_config, current_revision, head_revision, upgrade


def test_the_migration_matches_the_table_and_downgrades(engine) -> None:
    assert api_keys.name == "api_keys"
    with engine.connect() as conn:
        diffs = [d for d in compare_metadata(MigrationContext.configure(conn), metadata) if "api_keys" in repr(d)]
        uniques = {u["name"] for u in engine.dialect.get_unique_constraints(conn, "api_keys")}
    assert diffs == []
    assert {"uq_api_keys_prefix", "uq_api_keys_key_hash"} <= uniques
    command.downgrade(_alembic_config(engine), "0007_insights")
    with engine.connect() as conn:
        assert "api_keys" not in set(engine.dialect.get_table_names(conn))
    upgrade(engine)
    assert current_revision(engine) == head_revision()

"""Migration 0006_links creates exactly what bots.links.tables declares, and reverts."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bots.links import tables
from bots.stores.models import metadata
from bots.stores.sql import _alembic_config, current_revision, head_revision, upgrade

pytestmark = pytest.mark.integration

OURS = {"links", "link_clicks"}


def test_the_migration_matches_the_tables_and_downgrades(engine) -> None:
    assert {tables.links.name, tables.link_clicks.name} == OURS
    with engine.connect() as conn:
        diffs = [d for d in compare_metadata(MigrationContext.configure(conn), metadata) if "link" in repr(d)]
    assert diffs == []
    command.downgrade(_alembic_config(engine), "0005_privacy")
    with engine.connect() as conn:
        assert not OURS & set(engine.dialect.get_table_names(conn))
    upgrade(engine)
    assert current_revision(engine) == head_revision()

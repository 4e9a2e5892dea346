"""Migration 0005_privacy creates exactly what bots.privacy.tables declares, and reverts."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bots.privacy import tables
from bots.stores.models import metadata
from bots.stores.sql import _alembic_config, current_revision, head_revision, upgrade

OURS = {"consent_events", "consent_state", "feedback_signals", "feedback_counts", "erasures"}
OUR_INDEXES = {"ix_messages_created_at", "ix_deliveries_created_at"}


def _about_privacy(diff: object) -> bool:
    text = repr(diff)
    return any(name in text for name in OURS | OUR_INDEXES)


def test_the_migration_matches_the_tables_and_downgrades(engine) -> None:
    assert {t.name for t in metadata.sorted_tables} >= OURS and tables.erasures.name == "erasures"
    with engine.connect() as conn:
        diffs = [d for d in compare_metadata(MigrationContext.configure(conn), metadata) if _about_privacy(d)]
    assert diffs == []
    config = _alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision("0005_privacy").down_revision
    command.downgrade(config, str(before))
    with engine.connect() as conn:
        assert not OURS & set(engine.dialect.get_table_names(conn))
    upgrade(engine)
    assert current_revision(engine) == head_revision()

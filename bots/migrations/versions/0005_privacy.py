"""privacy: consent events and state, feedback signals and counts, erasure records

Revision ID: 0005_privacy
Revises: 0003
Create Date: 2026-11-30 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_privacy"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("how", sa.String(length=32), nullable=False),
        sa.Column("wording_version", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index("ix_consent_events_customer", "consent_events", ["channel", "customer_id", "at"], unique=False)
    op.create_table(
        "consent_state",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("how", sa.String(length=32), nullable=False),
        sa.Column("wording_version", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("channel", "customer_id", "purpose", name=op.f("pk_consent_state")),
    )
    op.create_table(
        "feedback_signals",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("sentiment_label", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('message', 'csat', 'nps', 'comment')", name=op.f("ck_feedback_signals_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_signals")),
    )
    op.create_index(op.f("ix_feedback_signals_subject"), "feedback_signals", ["subject"], unique=False)
    op.create_index(op.f("ix_feedback_signals_at"), "feedback_signals", ["at"], unique=False)
    op.create_table(
        "feedback_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "kind", name=op.f("pk_feedback_counts")),
    )
    op.create_table(
        "erasures",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_subject_hash"), "erasures", ["subject_hash"], unique=False)
    # retention purges by time: these make `brandbot retention run` an index range scan.
    op.create_index("ix_messages_created_at", "messages", ["created_at"], unique=False)
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index(op.f("ix_erasures_subject_hash"), table_name="erasures")
    op.drop_table("erasures")
    op.drop_table("feedback_counts")
    op.drop_index(op.f("ix_feedback_signals_at"), table_name="feedback_signals")
    op.drop_index(op.f("ix_feedback_signals_subject"), table_name="feedback_signals")
    op.drop_table("feedback_signals")
    op.drop_table("consent_state")
    op.drop_index("ix_consent_events_customer", table_name="consent_events")
    op.drop_table("consent_events")

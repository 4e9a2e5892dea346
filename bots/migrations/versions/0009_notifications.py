"""notifications: proactive notifications, customer links (a brand reference -> a channel identity),
deliveries.error_message

Revision ID: 0009_notifications
Revises: 0008_api_keys
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notifications"
down_revision = "0008_api_keys"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_message", sa.String(length=300), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("reference_kind", sa.String(length=16), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("conversation_id", sa.String(length=200), nullable=True),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("delivery_key", sa.String(length=300), nullable=True),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("scope", "idempotency_key", name="uq_notifications_scope_idempotency_key"),
    )
    op.create_index("ix_notifications_conversation_id", "notifications", ["conversation_id"], unique=False)
    op.create_index("ix_notifications_batch", "notifications", ["batch"], unique=False)
    op.create_table(
        "customer_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("reference_kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_links")),
        sa.UniqueConstraint(
            "reference_kind", "reference", "channel", "customer_id", name="uq_customer_links_reference_identity"
        ),
    )
    op.create_index("ix_customer_links_conversation_id", "customer_links", ["conversation_id"], unique=False)
    op.create_index("ix_customer_links_reference", "customer_links", ["reference_kind", "reference"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_customer_links_reference", table_name="customer_links")
    op.drop_index("ix_customer_links_conversation_id", table_name="customer_links")
    op.drop_table("customer_links")
    op.drop_index("ix_notifications_batch", table_name="notifications")
    op.drop_index("ix_notifications_conversation_id", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("error_message")

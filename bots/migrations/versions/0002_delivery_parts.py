"""delivery parts: one row per channel message of a (possibly split) delivery

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_parts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_parts")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_delivery_parts_provider_id")),
    )
    with op.batch_alter_table("delivery_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_parts_idempotency_key"), ["idempotency_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_parts_idempotency_key"))
    op.drop_table("delivery_parts")

"""links: tracked short links sent in bot replies and their clicks

Revision ID: 0006_links
Revises: 0005_privacy
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_links"
down_revision = "0005_privacy"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_click_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_links")),
    )
    op.create_index("ix_links_created_at", "links", ["created_at"], unique=False)
    op.create_index("ix_links_conversation_id", "links", ["conversation_id"], unique=False)
    op.create_table(
        "link_clicks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ua_family", sa.String(length=32), nullable=False),
        sa.Column("first_click", sa.Boolean(), nullable=False),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("referrer_less", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_clicks")),
    )
    op.create_index("ix_link_clicks_code", "link_clicks", ["code"], unique=False)
    op.create_index("ix_link_clicks_at", "link_clicks", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_link_clicks_at", table_name="link_clicks")
    op.drop_index("ix_link_clicks_code", table_name="link_clicks")
    op.drop_table("link_clicks")
    op.drop_index("ix_links_conversation_id", table_name="links")
    op.drop_index("ix_links_created_at", table_name="links")
    op.drop_table("links")

"""insights: feedback_daily (daily signal counts) and the indexes of the insights' period reads

Revision ID: 0007_insights
Revises: 0006_links
Create Date: 2026-11-30 14:00:00

The backfill counts the existing ``feedback_signals`` rows with the rule of
``bots.insights.rollup.rebuild`` (written out here, so this migration never changes with the code).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_insights"
down_revision = "0006_links"
branch_labels = None
depends_on = None

_LABEL = (
    "CASE WHEN kind NOT IN ('message', 'comment') THEN '' "
    "WHEN sentiment_label IN ('positive', 'neutral', 'negative') THEN sentiment_label "
    "WHEN sentiment > 0 THEN 'positive' WHEN sentiment < 0 THEN 'negative' ELSE 'neutral' END"
)


def upgrade() -> None:
    op.create_table(
        "feedback_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "channel", "language", "intent", "kind", "label", "score", name=op.f("pk_feedback_daily")
        ),
    )
    op.create_index("ix_feedback_signals_intent_at", "feedback_signals", ["intent", "at"], unique=False)
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"], unique=False)
    op.create_index("ix_audit_log_subject_action", "audit_log", ["subject", "action"], unique=False)
    day = "CAST(timezone('UTC', at) AS DATE)" if op.get_bind().dialect.name == "postgresql" else "substr(at, 1, 10)"
    dims = f"{day}, channel, coalesce(language, ''), coalesce(intent, ''), kind, {_LABEL}, coalesce(score, -1)"
    op.execute(
        "INSERT INTO feedback_daily (day, channel, language, intent, kind, label, score, count) "
        f"SELECT {dims}, count(*) FROM feedback_signals GROUP BY {dims}"
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject_action", table_name="audit_log")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_index("ix_feedback_signals_intent_at", table_name="feedback_signals")
    op.drop_table("feedback_daily")

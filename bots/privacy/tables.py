"""The privacy tables, on the same MetaData as :mod:`bots.stores.models` (migration 0005_privacy).

- ``consent_events``: append-only, one row per grant or withdrawal, with the exact
  wording shown and its version, how it was given and by whom. Never updated.
- ``consent_state``: the current answer per customer and purpose (one row, updated in the
  same transaction as the event), for one-row reads on every signal and notification.
- ``feedback_signals``: signals of customers who opted in to ``feedback_analytics``,
  keyed by a pseudonym (never the channel id); free text is redacted first.
- ``feedback_counts``: for customers without that consent, counts only per day, channel
  and kind (no text, no customer key), so volume figures stay honest.
- ``erasures``: one minimal row per erasure (time, channel, keyed hash of the id).

Consent is keyed by channel and channel id in clear: it is the customer's own record
(exported to them, erased with them), not analytics.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ..stores.models import deliveries, messages, metadata

__all__ = ["consent_events", "consent_state", "feedback_signals", "feedback_counts", "erasures", "SIGNAL_KINDS"]

#: kinds of feedback signal (also the ``kind`` of ``feedback_counts``).
SIGNAL_KINDS = ("message", "csat", "nps", "comment")

_ID = BigInteger().with_variant(Integer, "sqlite")

consent_events = Table(
    "consent_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("granted", Boolean, nullable=False),
    #: how it was given or withdrawn: button, words, keyword, console, api, import.
    Column("how", String(32), nullable=False),
    Column("wording_version", String(64), nullable=False),
    #: the exact sentence the customer was shown (or the staff member recorded).
    Column("wording", Text, nullable=False),
    Column("language", String(8)),
    #: who recorded it: "customer", "staff:<id>", "api:<token prefix>"...
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_consent_events_customer", "channel", "customer_id", "at"),
)

consent_state = Table(
    "consent_state",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("customer_id", String(200), primary_key=True),
    Column("purpose", String(32), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("how", String(32), nullable=False),
    Column("wording_version", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    #: the consent_events row this state comes from.
    Column("event_id", _ID, nullable=False),
)

feedback_signals = Table(
    "feedback_signals",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    #: HMAC of "channel:id" (bots.privacy.pseudonyms), never the id itself.
    Column("subject", String(64), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("language", String(8)),
    Column("intent", String(100)),
    Column("sentiment", Float),
    Column("sentiment_label", String(16)),
    #: CSAT 1-5, NPS 0-10.
    Column("score", Integer),
    #: a comment, redacted (bots.privacy.redaction) before it is stored.
    Column("text", Text),
    CheckConstraint("kind IN ('message', 'csat', 'nps', 'comment')", name="kind"),
)

feedback_counts = Table(
    "feedback_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    #: keyed hash of "channel:id" (Pseudonyms.erasure_hash): no identifier in clear.
    Column("subject_hash", String(64), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    #: rows and keys removed, per table / key family (counts only).
    Column("removed", JSON),
)

# Retention purges by time: these make ``brandbot retention run`` an index range scan on the
# existing tables (created by the same migration).
Index("ix_messages_created_at", messages.c.created_at)
Index("ix_deliveries_created_at", deliveries.c.created_at)

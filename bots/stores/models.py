"""The durable record's tables (SQLAlchemy Core metadata, migrated with Alembic).

Every change here needs a migration in ``bots/migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("language", String(8)),
    Column("mode", String(16), nullable=False, default="bot"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: staff side (written by bots.handoff.modes.change_mode and the agent desk):
    #: the staff member it is assigned to, since when the customer waits, why it was handed over.
    Column("assigned_to", Integer, index=True),
    Column("waiting_since", DateTime(timezone=True)),
    Column("handoff_reason", String(64)),
    Column("resolved_at", DateTime(timezone=True)),
    #: the last message either way, for the inbox (preview capped at 200 characters).
    Column("last_message_at", DateTime(timezone=True)),
    Column("last_preview", String(200)),
    Index("ix_conversations_mode_waiting", "mode", "waiting_since"),
)

#: transcript: one row per inbound or outbound message.
messages = Table(
    "messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("direction", String(3), nullable=False),  # "in" | "out"
    Column("channel", String(32), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("data", JSON),  # NLU result, quick replies, attachments
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("conversation_id", "direction", "message_id", name="uq_messages_conv_dir_msg"),
)

#: one row per message sent to a channel, with its delivery status.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("conversation_id", String(200), nullable=False),
    Column("provider_id", String(200), index=True),
    Column("status", String(32), nullable=False),
    Column("error_code", String(32)),
    #: why a send failed or died (the exception's text, cut to 300 characters; the dead letter keeps it whole).
    Column("error_message", String(300)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: one row per channel message of a sent delivery (a long SMS/WhatsApp reply is split into
#: several, each with its own provider id and status callbacks); the delivery's status is
#: rolled up from its parts. ``idempotency_key`` is NULL while a status callback has
#: arrived for a message whose send is not recorded yet.
delivery_parts = Table(
    "delivery_parts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("idempotency_key", String(300), index=True),
    Column("part_index", Integer, nullable=False, default=0),
    Column("provider_id", String(200), nullable=False, unique=True),
    Column("status", String(32), nullable=False),
    Column("error_code", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200)),
    Column("detail", JSON),
    Index("ix_audit_log_at", "at"),
)


#: support staff: agents answer customers, analysts read the dashboard, admins manage both.
staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False, default=""),
    Column("role", String(16), nullable=False),  # "agent" | "analyst" | "admin"
    Column("password_hash", String(200)),  # argon2; NULL: no console sign-in (API token only)
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
)

#: personal API tokens: only a SHA-256 of the token is stored (the token is random, 256 bits).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("staff_id", Integer, nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # the token's first characters, to tell tokens apart
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

#: private notes staff leave on a conversation (never sent to the customer).
notes = Table(
    "notes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("staff_id", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: API keys of the brand's own systems (machines, not staff), each limited to scopes (comma-separated,
#: e.g. "notify"). Only a SHA-256 (hex) of the whole key is stored: a key carries 256 random bits, so a
#: fast hash is right (a slow password hash only helps with secrets people choose and can be guessed).
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),  # what the key is for ("booking system: delay notices")
    Column("prefix", String(16), nullable=False, unique=True),  # the key's first characters, to tell keys apart
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_by", String(200)),  # free text: who made it ("cli", "staff:3")
)

#: proactive notifications (bots.notifications): one row per request, idempotent on (scope, idempotency_key).
#: ``state`` is ``queued`` or ``refused``; once queued, what happened is read from the ``deliveries`` row
#: whose ``idempotency_key`` is ``delivery_key`` (``"notification:<id>"``).
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(40), primary_key=True),  # "ntf_" + 32 hex digits
    Column("scope", String(64), nullable=False),  # who asked: "apikey:<id>", "cli"
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),  # SHA-256 (hex) of the canonical request JSON
    Column("kind", String(64), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("reference_kind", String(16)),  # "booking" | "customer"
    Column("reference", String(64)),
    Column("channel", String(32)),
    Column("customer_id", String(200)),
    Column("conversation_id", String(200), index=True),
    Column("variables", Text, nullable=False),  # a JSON object of str -> str
    Column("language", String(16)),
    Column("state", String(16), nullable=False),  # "queued" | "refused"
    Column("reason", String(500)),
    Column("delivery_key", String(300)),
    Column("batch", String(64), index=True),  # a bulk run's id
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("scope", "idempotency_key", name="uq_notifications_scope_idempotency_key"),
)

#: a brand reference (a booking, a customer number) confirmed in chat, tied to a channel identity.
customer_links = Table(
    "customer_links",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("reference_kind", String(16), nullable=False),  # "booking" | "customer"
    Column("reference", String(64), nullable=False),  # upper-cased, stripped
    Column("channel", String(32), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "reference_kind", "reference", "channel", "customer_id", name="uq_customer_links_reference_identity"
    ),
    Index("ix_customer_links_reference", "reference_kind", "reference"),
)

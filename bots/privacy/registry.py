"""Every store that keeps customer data, registered in one place with how to find it.

Erasure (:mod:`bots.privacy.erasure`) and export (:mod:`bots.privacy.export`) both walk
this registry, so what one removes the other shows. A test fails when a SQL table is
neither registered here nor listed in :data:`NO_CUSTOMER_DATA`, so a new table cannot be
forgotten by erasure.

Redis key families are listed in :data:`KEY_FAMILIES` (a test fails when a key in a
populated deployment matches none). Every family holding customer data carries the
conversation id, ``"<channel>:<id>"``, in a hash tag ``{...}`` (one Redis Cluster slot),
except the inbound dedupe keys and the entries of the inbound and dead-letter streams,
which erasure finds through the conversation's message ids and the entries' fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, and_, false, or_, select

from ..links.tables import link_clicks, links
from ..stores.models import (
    audit_log,
    conversations,
    customer_links,
    deliveries,
    delivery_parts,
    messages,
    notes,
    notifications,
)
from .customer import Customer
from .tables import consent_events, consent_state, feedback_signals

__all__ = ["Trace", "SqlStore", "SQL_STORES", "NO_CUSTOMER_DATA", "KeyFamily", "KEY_FAMILIES", "key_family", "trace_of"]


@dataclass(frozen=True)
class Trace:
    """What links rows to a customer beyond their id: read before anything is deleted."""

    who: Customer
    #: the customer's pseudonym (feedback_signals.subject).
    subject: str
    #: idempotency keys and provider ids of their deliveries (delivery_parts rows).
    idempotency_keys: tuple[str, ...]
    provider_ids: tuple[str, ...]
    #: channel message ids of their inbound messages (Redis dedupe keys).
    inbound_ids: tuple[str, ...]


@dataclass(frozen=True)
class SqlStore:
    """A table holding customer data, and the condition selecting one customer's rows."""

    table: Table
    where: Callable[[Trace], ColumnElement[bool]]


def _in(column, values: Sequence[str]) -> ColumnElement[bool]:
    return column.in_(values) if values else false()


def _conversation_rows(t: Trace) -> ColumnElement[bool]:
    return or_(
        conversations.c.id == t.who.conversation_id,
        and_(conversations.c.channel == t.who.channel, conversations.c.customer_id == t.who.id),
    )


def _delivery_rows(t: Trace) -> ColumnElement[bool]:
    return or_(
        deliveries.c.conversation_id == t.who.conversation_id,
        and_(deliveries.c.channel == t.who.channel, deliveries.c.recipient == t.who.id),
    )


#: children first: erasure deletes in this order (delivery_parts before deliveries...).
SQL_STORES: tuple[SqlStore, ...] = (
    SqlStore(
        delivery_parts,
        lambda t: or_(
            _in(delivery_parts.c.idempotency_key, t.idempotency_keys), _in(delivery_parts.c.provider_id, t.provider_ids)
        ),
    ),
    SqlStore(deliveries, _delivery_rows),
    SqlStore(messages, lambda t: messages.c.conversation_id == t.who.conversation_id),
    SqlStore(notes, lambda t: notes.c.conversation_id == t.who.conversation_id),
    SqlStore(audit_log, lambda t: audit_log.c.subject.in_([t.who.conversation_id, t.who.id])),
    SqlStore(
        consent_events,
        lambda t: and_(consent_events.c.channel == t.who.channel, consent_events.c.customer_id == t.who.id),
    ),
    SqlStore(
        consent_state, lambda t: and_(consent_state.c.channel == t.who.channel, consent_state.c.customer_id == t.who.id)
    ),
    SqlStore(feedback_signals, lambda t: feedback_signals.c.subject == t.subject),
    SqlStore(
        link_clicks,
        lambda t: link_clicks.c.code.in_(select(links.c.code).where(links.c.conversation_id == t.who.conversation_id)),
    ),
    SqlStore(links, lambda t: links.c.conversation_id == t.who.conversation_id),
    SqlStore(
        notifications,
        lambda t: or_(
            notifications.c.conversation_id == t.who.conversation_id,
            and_(notifications.c.channel == t.who.channel, notifications.c.customer_id == t.who.id),
        ),
    ),
    SqlStore(
        customer_links,
        lambda t: and_(customer_links.c.channel == t.who.channel, customer_links.c.customer_id == t.who.id),
    ),
    SqlStore(conversations, _conversation_rows),
)

#: tables that hold nothing about a customer, and why.
NO_CUSTOMER_DATA: dict[str, str] = {
    "staff": "staff accounts",
    "api_tokens": "staff API tokens (hashes)",
    "api_keys": "API keys of the brand's systems (hashes, names, scopes)",
    "feedback_counts": "counts per day, channel and kind: no text, no customer key",
    "feedback_daily": "opted-in signal counts per day, channel, language, intent, label, score: no text, no key",
    "erasures": "erasure records: a keyed hash of the id, never the id",
}


def trace_of(conn: Connection, who: Customer, subject: str) -> Trace:
    """Read the keys that tie other rows (delivery parts, dedupe keys) to ``who``."""
    dl = conn.execute(
        select(deliveries.c.idempotency_key, deliveries.c.provider_id).where(
            _delivery_rows(Trace(who, subject, (), (), ()))
        )
    ).all()
    idem = tuple(r.idempotency_key for r in dl)
    parts: list[str] = []
    if idem:
        stmt = select(delivery_parts.c.provider_id).where(delivery_parts.c.idempotency_key.in_(idem))
        parts = list(conn.execute(stmt).scalars())
    provider = tuple({*(r.provider_id for r in dl if r.provider_id), *parts})
    inbound = tuple(
        conn.execute(
            select(messages.c.message_id).where(
                messages.c.conversation_id == who.conversation_id, messages.c.direction == "in"
            )
        ).scalars()
    )
    return Trace(who, subject, idem, provider, inbound)


@dataclass(frozen=True)
class KeyFamily:
    """A family of Redis keys: its name, its shape (a regex over the whole key, ``<p>`` standing
    for ``stores.key_prefix``) and whether it holds customer data."""

    name: str
    pattern: str
    customer_data: bool

    def matches(self, key: str, prefix: str) -> bool:
        return re.fullmatch(self.pattern.replace("<p>", re.escape(prefix)), key) is not None


_TAG = r"\{[^{}]+\}"
#: every key family brandbot writes (``<p>``: ``stores.key_prefix``).
KEY_FAMILIES: tuple[KeyFamily, ...] = (
    KeyFamily("dialogue state and lock (bots.dialogue.store)", rf"<p>:{_TAG}:(state|lock)", True),
    KeyFamily("pipeline sent marks (bots.pipeline.keys)", rf"<p>:sent:{_TAG}:.+", True),
    KeyFamily(
        "connector send logs (connectors._sendlog)",
        rf"<p>:(telegram|twilio|meta|webchat):sent(_ids)?:{_TAG}(:.+)?",
        True,
    ),
    KeyFamily(
        "Twilio and Meta window, opt-out, offered options (connectors._channel_state)",
        rf"<p>:(twilio|meta):(last_inbound|opted_out|options):{_TAG}",
        True,
    ),
    KeyFamily("Meta per-account send rate (connectors._ratelimit)", r"\{<p>:meta:rl\}:.+", False),
    KeyFamily(
        "Twilio per-sender send rate (connectors._ratelimit; the key holds our sender)", r"\{<p>:twilio:rl\}:.+", False
    ),
    KeyFamily("Telegram pending callbacks, blocked chats", rf"<p>:telegram:(pending_cb|blocked):{_TAG}", True),
    KeyFamily("Telegram per-chat rate limit (connectors._ratelimit)", rf"\{{<p>:telegram:rl\}}:{_TAG}:.+", True),
    KeyFamily(
        "web chat outbox, sent marks, rate (connectors.webchat, bots.web.chat)",
        r"<p>:\{webchat:[^{}]+\}:(outbox|sent|rate:\d+)",
        True,
    ),
    KeyFamily(
        "inbound dedupe keys (message ids; web chat ids start with the visitor)", r"<p>:dedupe:\{s\d+\}:.+", True
    ),
    KeyFamily("inbound streams (entries name the conversation)", r"<p>:in:\{s\d+\}", True),
    KeyFamily("dead letters (entries name the conversation)", r"<p>:dlq:\{dlq\}", True),
    KeyFamily("Telegram overall rate limit", r"\{<p>:telegram:rl\}:overall:.+", False),
    KeyFamily("Telegram button payloads the bot offered", r"<p>:telegram:cb:.+", False),
    KeyFamily("stream shard leases and the worker registry", r"<p>:(lease:\{s\d+\}|workers:\{pipeline\})", False),
    KeyFamily("erasure tombstones (a keyed hash, no id; bots.privacy.erasure)", r"<p>:erased:\{[0-9a-f]{64}\}", False),
    KeyFamily("staff presence, sign-in throttle, sweeper lock", r"<p>:(presence|login:.+|handoff:sweep-lock)", False),
)


def key_family(key: str, prefix: str) -> KeyFamily | None:
    """The family of ``key``, or None for a key no family describes."""
    return next((f for f in KEY_FAMILIES if f.matches(key, prefix)), None)

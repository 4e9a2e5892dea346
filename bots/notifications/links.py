"""Customer links: a brand reference confirmed in chat, tied to the channel identity that gave it.

When a customer gives their booking reference in a conversation (and the brand's system
confirms it), :meth:`CustomerLinks.link` records ``(reference_kind, reference) -> (channel,
customer id)``. A notification about that booking then finds who to tell with
:meth:`CustomerLinks.identities`: every identity that gave the reference, the most recently
active first. References are compared upper-cased and stripped (``" ab12cd "`` is ``AB12CD``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..clock import aware, utcnow
from ..errors import StoreUnavailable
from ..privacy.customer import Customer
from ..stores.models import conversations, customer_links
from ..stores.sql import conflict_insert

__all__ = ["CustomerLinks", "Identity", "normalise_reference"]

MAX_REFERENCE_KIND = 16
MAX_REFERENCE = 64


def normalise_reference(reference_kind: str, reference: str) -> tuple[str, str]:
    """``(kind, REFERENCE)`` as stored: the kind stripped, the reference stripped and upper-cased.

    Raises:
        ValueError: an empty or too long kind or reference.
    """
    kind = reference_kind.strip()
    ref = reference.strip().upper()
    if not kind or len(kind) > MAX_REFERENCE_KIND:
        raise ValueError(f"a reference kind has 1 to {MAX_REFERENCE_KIND} characters (e.g. 'booking'), not {kind!r}")
    if not ref or len(ref) > MAX_REFERENCE:
        raise ValueError(f"a {kind} reference has 1 to {MAX_REFERENCE} characters, not {reference!r}")
    return kind, ref


@dataclass(frozen=True)
class Identity:
    """A channel identity linked to a reference, and when it was last seen."""

    channel: str
    customer_id: str
    conversation_id: str
    #: the later of the link's last confirmation and the conversation's last message.
    last_seen_at: datetime


class CustomerLinks:
    """Record and look up which channel identities gave a brand reference.

    Args:
        engine: the SQL engine (migrated to 0009_notifications or later).
        clock: returns an aware ``datetime`` (UTC).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def link(self, reference_kind: str, reference: str, who: Customer) -> None:
        """Tie ``reference`` to ``who`` (again): the link's ``last_seen_at`` becomes now.

        Raises:
            ValueError: an empty or too long kind or reference.
            StoreUnavailable: SQL does not answer.
        """
        kind, ref = normalise_reference(reference_kind, reference)
        now = self.clock()
        key = {"reference_kind": kind, "reference": ref, "channel": who.channel, "customer_id": who.id}
        seen = {"conversation_id": who.conversation_id, "last_seen_at": now}
        upsert = conflict_insert(self.engine.dialect.name, customer_links)
        try:
            with self.engine.begin() as conn:
                if upsert is not None:  # one statement: INSERT ... ON CONFLICT DO UPDATE
                    stmt = upsert.values(**key, **seen, first_seen_at=now)
                    conn.execute(
                        stmt.on_conflict_do_update(index_elements=list(key), set_=seen),
                    )
                    return
                try:
                    with conn.begin_nested():
                        conn.execute(insert(customer_links).values(**key, **seen, first_seen_at=now))
                except IntegrityError:
                    conn.execute(
                        update(customer_links)
                        .where(*(customer_links.c[name] == value for name, value in key.items()))
                        .values(**seen)
                    )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot link a {kind} reference to a {who.channel} customer: {exc}") from exc

    def identities(self, reference_kind: str, reference: str) -> list[Identity]:
        """The identities that gave ``reference``, the most recently seen first.

        ``last_seen_at`` is the later of the link's and the conversation's last message
        (``conversations.last_message_at``, either way).

        Raises:
            ValueError: an empty or too long kind or reference.
            StoreUnavailable: SQL does not answer.
        """
        kind, ref = normalise_reference(reference_kind, reference)
        cl, c = customer_links.c, conversations.c
        stmt = (
            select(cl.channel, cl.customer_id, cl.conversation_id, cl.last_seen_at, c.last_message_at)
            .select_from(customer_links.outerjoin(conversations, c.id == cl.conversation_id))
            .where(cl.reference_kind == kind, cl.reference == ref)
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the identities of a {kind} reference: {exc}") from exc
        found = [
            Identity(
                channel=r.channel,
                customer_id=r.customer_id,
                conversation_id=r.conversation_id,
                last_seen_at=max(aware(r.last_seen_at), aware(r.last_message_at))
                if r.last_message_at is not None
                else aware(r.last_seen_at),
            )
            for r in rows
        ]
        found.sort(key=lambda i: (i.channel, i.customer_id))
        found.sort(key=lambda i: i.last_seen_at, reverse=True)
        return found

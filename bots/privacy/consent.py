"""Consent records: an append-only event per change, and the current state for fast reads.

Consent is never inferred: :meth:`ConsentBook.grant` and :meth:`ConsentBook.withdraw`
require how it was given (a button, the customer's words, an SMS keyword, the console,
the API) and the exact wording shown with its version id (``privacy.consent.wordings``).
Each call writes one ``consent_events`` row and, in the same transaction, the
``consent_state`` row read by :meth:`ConsentBook.granted` on every signal.

Reads go to SQL (a primary-key lookup) rather than a Redis cache: a withdrawal must take
effect in every process at once, and a cache would need an invalidation that cannot race
with a concurrent refill. The state row only moves to a newer event (``event_id`` grows),
so two changes committed out of order leave the later one in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from connectors.errors import BadInput
from connectors.input_text import clean_text

from ..errors import StoreUnavailable
from ..settings.privacy import PURPOSES
from ..stores.sql import conflict_insert
from .customer import Customer
from .errors import PrivacyError
from .tables import consent_events, consent_state

__all__ = ["HOWS", "PURPOSES", "Wording", "ConsentRecord", "ConsentState", "ConsentBook", "granted_in"]

#: how a consent can be given or withdrawn.
HOWS = ("button", "words", "keyword", "console", "api", "import")


@dataclass(frozen=True, slots=True)
class Wording:
    """The exact sentence the customer was shown, its version id and its language."""

    version: str
    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One ``consent_events`` row."""

    id: int
    channel: str
    customer_id: str
    purpose: str
    granted: bool
    how: str
    wording_version: str
    wording: str
    language: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The answer in force for one purpose (the latest event)."""

    purpose: str
    granted: bool
    how: str
    wording_version: str
    at: datetime


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def granted_in(conn: Connection, who: Customer, purpose: str) -> bool:
    """Whether ``who`` has ``purpose`` granted now, read on the caller's connection (its transaction)."""
    row = conn.execute(
        select(consent_state.c.granted).where(
            consent_state.c.channel == who.channel,
            consent_state.c.customer_id == who.id,
            consent_state.c.purpose == purpose,
        )
    ).first()
    return bool(row is not None and row.granted)


def _check(purpose: str, how: str, wording: Wording, actor: str) -> Wording:
    if purpose not in PURPOSES:
        raise PrivacyError(f"unknown consent purpose {purpose!r}; valid purposes: {', '.join(PURPOSES)}")
    if how not in HOWS:
        raise PrivacyError(f"unknown way of giving consent {how!r}; valid: {', '.join(HOWS)}")
    if not wording.version.strip():
        raise PrivacyError("a consent needs the version id of the wording shown (privacy.consent.wordings)")
    if not actor.strip():
        raise PrivacyError("a consent needs who recorded it (actor: 'customer', 'staff:<id>'...)")
    try:
        text = clean_text(wording.text, field="wording", max_chars=4000, required=True)
    except BadInput as exc:
        raise PrivacyError(f"a consent needs the exact wording shown: {exc}") from exc
    return Wording(wording.version, text, wording.language)


class ConsentBook:
    """Grant, withdraw and read consents.

    Args:
        engine: the SQL engine (migrated to 0005_privacy or later).
        clock: the current time, timezone-aware (injected in tests).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def grant(
        self, who: Customer, purpose: str, *, how: str, wording: Wording, actor: str = "customer"
    ) -> ConsentRecord:
        """Record that ``who`` agreed to ``purpose`` after being shown ``wording``.

        Raises:
            PrivacyError: unknown purpose or way, no wording or version.
            StoreUnavailable: SQL does not answer.
        """
        return self._record(who, purpose, True, how, wording, actor)

    def withdraw(
        self, who: Customer, purpose: str, *, how: str, wording: Wording, actor: str = "customer"
    ) -> ConsentRecord:
        """Record that ``who`` refused or withdrew ``purpose`` (``wording``: what they were shown or said).

        Raises:
            PrivacyError: unknown purpose or way, no wording or version.
            StoreUnavailable: SQL does not answer.
        """
        return self._record(who, purpose, False, how, wording, actor)

    def _record(
        self, who: Customer, purpose: str, granted: bool, how: str, wording: Wording, actor: str
    ) -> ConsentRecord:
        wording = _check(purpose, how, wording, actor)
        record = ConsentRecord(
            id=0,
            channel=who.channel,
            customer_id=who.id,
            purpose=purpose,
            granted=granted,
            how=how,
            wording_version=wording.version,
            wording=wording.text,
            language=wording.language,
            actor=actor,
            at=self.clock(),
        )
        event = {k: v for k, v in asdict(record).items() if k != "id"}
        upsert = conflict_insert(self.engine.dialect.name, consent_state)
        if upsert is None:
            raise StoreUnavailable(
                f"SQL dialect {self.engine.dialect.name!r} is not supported (use SQLite or PostgreSQL)"
            )
        try:
            with self.engine.begin() as conn:
                event_id = int(
                    conn.execute(insert(consent_events).values(**event).returning(consent_events.c.id)).scalar_one()
                )
                stmt = upsert.values(
                    channel=who.channel,
                    customer_id=who.id,
                    purpose=purpose,
                    granted=granted,
                    how=how,
                    wording_version=wording.version,
                    at=record.at,
                    event_id=event_id,
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["channel", "customer_id", "purpose"],
                        set_={k: stmt.excluded[k] for k in ("granted", "how", "wording_version", "at", "event_id")},
                        where=consent_state.c.event_id < stmt.excluded.event_id,
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot record the {purpose} consent of a {who.channel} customer: {exc}") from exc
        return replace(record, id=event_id)

    def granted(self, who: Customer, purpose: str) -> bool:
        """Whether ``who`` has ``purpose`` granted now (no record: False; consent is never inferred)."""
        try:
            with self.engine.connect() as conn:
                return granted_in(conn, who, purpose)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the consent of a {who.channel} customer: {exc}") from exc

    def current(self, who: Customer) -> dict[str, ConsentState]:
        """The answer in force per purpose (purposes never asked are absent).

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(consent_state).where(
                        consent_state.c.channel == who.channel, consent_state.c.customer_id == who.id
                    )
                ).all()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the consents of a {who.channel} customer: {exc}") from exc
        return {r.purpose: ConsentState(r.purpose, bool(r.granted), r.how, r.wording_version, _utc(r.at)) for r in rows}

    def history(self, who: Customer) -> list[ConsentRecord]:
        """Every grant and withdrawal of ``who``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(consent_events)
                .where(consent_events.c.channel == who.channel, consent_events.c.customer_id == who.id)
                .order_by(consent_events.c.id)
            ).all()
        return [
            ConsentRecord(
                id=int(r.id),
                channel=r.channel,
                customer_id=r.customer_id,
                purpose=r.purpose,
                granted=bool(r.granted),
                how=r.how,
                wording_version=r.wording_version,
                wording=r.wording,
                language=r.language,
                actor=r.actor,
                at=_utc(r.at),
            )
            for r in rows
        ]

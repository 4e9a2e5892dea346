"""Feedback signals: stored only for customers who opted in to ``feedback_analytics``.

:class:`Signals` checks the consent itself, in the same transaction as the write, so no
caller can store a signal for a customer who did not opt in (or withdrew a moment ago):

- consent granted: one ``feedback_signals`` row keyed by the customer's pseudonym (never
  the channel id), comments and message texts redacted first, and the anonymous daily count
  of :mod:`bots.insights.rollup` (same transaction);
- otherwise: ``feedback_counts`` for (day, channel, kind) goes up by one. No text, no
  customer key: volume figures stay honest without keeping anything about the person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailable
from ..insights import rollup  # a module, not a name: rollup imports this package's tables
from ..stores.sql import conflict_insert
from .consent import granted_in
from .customer import Customer
from .errors import PrivacyError
from .pseudonyms import Pseudonyms
from .redaction import redact
from .tables import feedback_counts, feedback_signals

__all__ = ["Signals", "Stored", "FEEDBACK"]

#: the consent purpose that lets a customer's messages become signals.
FEEDBACK = "feedback_analytics"

#: the longest redacted message text kept with a message signal.
MESSAGE_TEXT_CHARS = 1000

#: what a call wrote: a signal row, or only a count.
Stored = Literal["signal", "count"]


class Signals:
    """Record feedback signals, consent-checked.

    Args:
        engine: the SQL engine (migrated to 0005_privacy or later).
        pseudonyms: keys customers by an HMAC of their channel id.
        clock: the current time, timezone-aware (injected in tests).
    """

    def __init__(
        self, engine: Engine, pseudonyms: Pseudonyms, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.pseudonyms = pseudonyms
        self.clock = clock

    def message(
        self,
        who: Customer,
        *,
        intent: str | None,
        sentiment: float | None,
        sentiment_label: str | None = None,
        language: str | None = None,
        text: str | None = None,
    ) -> Stored:
        """One customer message's NLU reading (intent, sentiment in [-1, 1]) and, redacted, its text.

        The text (for the insights' drivers and fallback examples) is kept only in the opted-in
        signal row, redacted first (:func:`~bots.privacy.redaction.redact`); without consent only
        the day's count goes up, and the text is dropped.
        """
        if sentiment is not None and not -1.0 <= sentiment <= 1.0:
            raise PrivacyError(f"sentiment {sentiment!r} is outside [-1, 1]")
        values: dict[str, Any] = dict(intent=intent, sentiment=sentiment, sentiment_label=sentiment_label)
        values["language"] = language
        values["text"] = redact(text)[:MESSAGE_TEXT_CHARS] if text and text.strip() else None
        return self._store(who, "message", values)

    def csat(self, who: Customer, score: int, *, language: str | None = None) -> Stored:
        """A CSAT answer, 1 (very unhappy) to 5 (very happy)."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise PrivacyError(f"CSAT score {score!r} is not a whole number from 1 to 5")
        return self._store(who, "csat", dict(score=score, language=language))

    def nps(self, who: Customer, score: int, *, language: str | None = None) -> Stored:
        """An NPS answer, 0 (would not recommend) to 10."""
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise PrivacyError(f"NPS score {score!r} is not a whole number from 0 to 10")
        return self._store(who, "nps", dict(score=score, language=language))

    def comment(
        self,
        who: Customer,
        text: str,
        *,
        sentiment: float | None,
        sentiment_label: str | None = None,
        language: str | None = None,
    ) -> Stored:
        """A free-text comment; stored redacted (:func:`~bots.privacy.redaction.redact`), with its sentiment."""
        if sentiment is not None and not -1.0 <= sentiment <= 1.0:
            raise PrivacyError(f"sentiment {sentiment!r} is outside [-1, 1]")
        return self._store(
            who,
            "comment",
            dict(text=redact(text), sentiment=sentiment, sentiment_label=sentiment_label, language=language),
        )

    def _store(self, who: Customer, kind: str, values: dict[str, Any]) -> Stored:
        at = self.clock()
        try:
            with self.engine.begin() as conn:
                if granted_in(conn, who, FEEDBACK):
                    conn.execute(
                        insert(feedback_signals).values(
                            subject=self.pseudonyms.subject(who), channel=who.channel, kind=kind, at=at, **values
                        )
                    )
                    rollup.count_signal(conn, at, who.channel, kind, values)  # the insights' daily counts
                    return "signal"
                _count(conn, at, who.channel, kind)
                return "count"
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot record a {kind} signal on {who.channel}: {exc}") from exc


def _count(conn: Connection, at: datetime, channel: str, kind: str) -> None:
    """``feedback_counts`` (day, channel, kind) += 1, created at 1 (one upsert statement)."""
    upsert = conflict_insert(conn.dialect.name, feedback_counts)
    if upsert is None:
        raise StoreUnavailable(f"SQL dialect {conn.dialect.name!r} is not supported (use SQLite or PostgreSQL)")
    stmt = upsert.values(day=at.astimezone(UTC).date(), channel=channel, kind=kind, count=1)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["day", "channel", "kind"], set_={"count": feedback_counts.c.count + 1}
        )
    )

"""The console's privacy side: what the consent panel shows, and the tools behind export and erasure.

The routes are in :mod:`.customer_data`. Every staff member who opens a conversation sees
what its customer agreed to (per purpose: granted, withdrawn or never asked; when, how,
under which wording version). Admins may also download everything stored about the
customer (``GET /console/c/<id>/export``, the same JSON document as ``brandbot export
--json``) and erase the customer everywhere (``POST /console/c/<id>/erase``, the same as
``brandbot forget``). Erasing needs the CSRF token and a ``confirm`` field holding ``ERASE``
or the customer's id: the page asks for it, and the server refuses (400) a post without it,
so a stray request cannot erase anyone.

Audit: an erasure record (:mod:`bots.privacy.erasure`) keeps the actor ``staff:<id>`` and the
counts; an export is logged at INFO with the staff id and the customer's pseudonym, never
the channel id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ...errors import StoreUnavailable
from ...pipeline import keys_for
from ...pipeline.keys import Keys
from ...privacy import ConsentBook, ConsentState, Customer, PrivacyError, Pseudonyms, customer
from ...privacy.erasure import ErasureReport, erase
from ...privacy.export import export
from ...settings.privacy import PURPOSES

__all__ = [
    "CONFIRM_WORD",
    "PURPOSE_LABELS",
    "ConsentLine",
    "PrivacyTools",
    "consent_lines",
    "customer_of",
    "confirmed",
    "export_filename",
    "erased_message",
]

#: what the admin types to confirm an erasure (the customer's id works too).
CONFIRM_WORD = "ERASE"

#: purpose -> how the panel names it.
PURPOSE_LABELS: dict[str, str] = {
    "service": "Service (answering at all)",
    "feedback_analytics": "Feedback analytics",
    "service_updates": "Service updates (trips, flights)",
    "marketing": "Marketing",
}

#: consent ``how`` -> how the panel says it.
_HOW_LABELS: dict[str, str] = {
    "button": "by a button",
    "words": "in their own words",
    "keyword": "by an SMS keyword",
    "console": "in the console",
    "api": "through the API",
    "import": "by an import",
}


@dataclass(frozen=True)
class ConsentLine:
    """One purpose as the consent panel shows it."""

    purpose: str
    label: str
    #: ``"granted"``, ``"withdrawn"`` or ``"never asked"``.
    status: str
    at: datetime | None = None
    how: str | None = None
    wording_version: str | None = None


def consent_lines(current: Mapping[str, ConsentState]) -> list[ConsentLine]:
    """Every purpose in :data:`PURPOSES` order; a purpose without a record was never asked."""
    lines = []
    for purpose in PURPOSES:
        label = PURPOSE_LABELS.get(purpose, purpose)
        got = current.get(purpose)
        if got is None:
            lines.append(ConsentLine(purpose, label, "never asked"))
            continue
        lines.append(
            ConsentLine(
                purpose,
                label,
                "granted" if got.granted else "withdrawn",
                at=got.at,
                how=_HOW_LABELS.get(got.how, got.how),
                wording_version=got.wording_version,
            )
        )
    return lines


def customer_of(conversation_id: str, channel: str, customer_id: str) -> Customer:
    """The privacy :class:`Customer` of a conversation row.

    Raises:
        PrivacyError: the row's channel or id is not one the privacy duties know, or its id is
            not ``"<channel>:<customer id>"`` (an erasure would then miss the conversation).
    """
    who = customer(channel, customer_id)
    if who.conversation_id != conversation_id:
        raise PrivacyError(
            f"conversation {conversation_id!r} is not named {who.conversation_id!r}; "
            "use `brandbot forget` / `brandbot export` with the channel and id"
        )
    return who


def confirmed(typed: str, who: Customer) -> bool:
    """Whether the admin typed :data:`CONFIRM_WORD` or the customer's id (surrounding blanks ignored)."""
    value = typed.strip()
    return bool(value) and value in (CONFIRM_WORD, who.id)


def export_filename(who: Customer, pseudonym: str, at: datetime) -> str:
    """``brandbot-export-<channel>-<pseudonym, 16 hex>-<YYYYMMDD>.json``: no channel id in a file name."""
    return f"brandbot-export-{who.channel}-{pseudonym[:16]}-{at:%Y%m%d}.json"


#: removed-count keys (``sql:<table>``) -> how the flash names one and several.
_REMOVED_NAMES: dict[str, tuple[str, str]] = {
    "sql:messages": ("message", "messages"),
    "sql:conversations": ("conversation", "conversations"),
    "sql:notes": ("note", "notes"),
    "sql:deliveries": ("delivery", "deliveries"),
    "sql:delivery_parts": ("delivery part", "delivery parts"),
    "sql:audit_log": ("audit entry", "audit entries"),
    "sql:consent_events": ("consent record", "consent records"),
    "sql:consent_state": ("consent state", "consent states"),
    "sql:feedback_signals": ("feedback signal", "feedback signals"),
}


def _counted(name: str, n: int) -> str:
    table = name.removeprefix("sql:")
    one, several = _REMOVED_NAMES.get(name, (table, table))
    return f"{n} {one if n == 1 else several}"


def erased_message(report: ErasureReport) -> str:
    """The flash after an erasure: what was removed, with counts (SQL rows, then Redis keys)."""
    parts = [_counted(name, n) for name, n in report.removed.items() if name.startswith("sql:") and n]
    redis_count = sum(n for name, n in report.removed.items() if name.startswith("redis:"))
    if redis_count:
        parts.append(f"{redis_count} Redis key{'s' if redis_count != 1 else ''} and entries")
    what = ", ".join(parts) if parts else "nothing (no data was stored)"
    return f"Customer erased (erasure record {report.erasure_id}): removed {what}."


@dataclass(frozen=True)
class PrivacyTools:
    """What the console's privacy views need, built once by ``register`` from the process's services."""

    engine: Engine
    client: redis.Redis
    keys: Keys
    pseudonyms: Pseudonyms
    lock_wait: float

    @classmethod
    def from_services(cls, services: Any) -> PrivacyTools:
        settings = services.settings
        return cls(
            engine=services.engine,
            client=services.redis,
            keys=keys_for(settings),
            pseudonyms=Pseudonyms(settings.privacy.analytics_secret),
            lock_wait=settings.dialogue.lock_wait_seconds,
        )

    def consents(self, who: Customer) -> list[ConsentLine]:
        """Raises: StoreUnavailable."""
        try:
            return consent_lines(ConsentBook(self.engine).current(who))
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the consents of a {who.channel} customer: {exc}") from exc

    def export(self, who: Customer) -> dict[str, Any]:
        """Raises: StoreUnavailable."""
        return export(who, engine=self.engine, client=self.client, keys=self.keys, pseudonyms=self.pseudonyms)

    def erase(self, who: Customer, actor: str) -> ErasureReport:
        """Raises: PrivacyError (the conversation stayed busy), StoreUnavailable."""
        return erase(
            who,
            engine=self.engine,
            client=self.client,
            keys=self.keys,
            pseudonyms=self.pseudonyms,
            actor=actor,
            lock_wait=self.lock_wait,
        )

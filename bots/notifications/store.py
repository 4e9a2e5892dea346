"""Notification requests, kept in SQL (table ``notifications``), and what became of them.

A request is written once, idempotent on ``(scope, idempotency_key)``: the same key with the
same request (``request_hash``) gives back the row written the first time; with another
request it is an :class:`IdempotencyConflict`. Two concurrent requests with one key leave one
row: the unique constraint refuses the second insert, which then reads the first.

A row is ``queued`` or ``refused``. What happened to a queued one is not copied onto it: it is
read from the ``deliveries`` row the Deliverer keeps under ``delivery_key``
(``"notification:<id>"``), with one LEFT JOIN, for one notification or a whole bulk run.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..clock import aware, utcnow
from ..errors import BrandbotError, StoreUnavailable
from ..stores.models import deliveries, notifications
from .events import NOTIFICATION_KEY_PREFIX

__all__ = [
    "STATES",
    "QUEUED",
    "REFUSED",
    "IdempotencyConflict",
    "NewNotification",
    "NotificationRow",
    "NotificationView",
    "Notifications",
    "delivery_key",
    "view_state",
]

QUEUED = "queued"
REFUSED = "refused"
#: the states a notification is seen in (:attr:`NotificationView.state`).
STATES = (QUEUED, "sent", "delivered", "read", REFUSED, "failed")
#: ``deliveries.status`` -> the notification's state. No row, or ``attempted`` (a send under way
#: or cut short): queued. The channel's progress statuses before ``sent`` (the row is only written
#: once the channel took the message): sent. Any other status (failed, dead, undelivered,
#: canceled, unknown ones): failed.
_DELIVERY_STATES = {
    "attempted": QUEUED,
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "read",
}
MAX_REASON_LENGTH = 500
#: ids per query in :meth:`Notifications.views` (bound parameters stay well under every backend's limit).
_VIEW_CHUNK = 5000


def delivery_key(notification_id: str) -> str:
    """The ``Outbound.idempotency_key`` (and ``deliveries.idempotency_key``) of a notification."""
    return NOTIFICATION_KEY_PREFIX + notification_id


class IdempotencyConflict(BrandbotError):
    """Raised when an idempotency key of a scope is used again for a different request.

    Attributes:
        existing: the row written the first time the key was used.
    """

    def __init__(self, message: str, existing: NotificationRow | None = None) -> None:
        super().__init__(message)
        self.existing = existing


@dataclass(frozen=True)
class NewNotification:
    """A notification to write (:meth:`Notifications.create` makes its id and delivery key).

    ``state`` is ``"queued"`` (to be sent) or ``"refused"`` (with ``reason``).
    """

    scope: str
    idempotency_key: str | None
    request_hash: str | None
    kind: str
    purpose: str
    reference_kind: str | None
    reference: str | None
    channel: str | None
    customer_id: str | None
    conversation_id: str | None
    variables: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    state: str = QUEUED
    reason: str | None = None
    batch: str | None = None


@dataclass(frozen=True)
class NotificationRow:
    """One ``notifications`` row, as written (not what became of it: see :class:`NotificationView`)."""

    id: str
    scope: str
    idempotency_key: str | None
    request_hash: str | None
    kind: str
    purpose: str
    reference_kind: str | None
    reference: str | None
    channel: str | None
    customer_id: str | None
    conversation_id: str | None
    variables: dict[str, str]
    language: str | None
    state: str
    reason: str | None
    delivery_key: str | None
    batch: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NotificationView:
    """What the API shows of a notification: its state (one of :data:`STATES`) and why, if it failed."""

    id: str
    kind: str
    state: str
    reason: str | None
    channel: str | None
    created_at: datetime
    updated_at: datetime
    batch: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON object (datetimes in ISO 8601)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "reason": self.reason,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "batch": self.batch,
        }


def view_state(stored_state: str, stored_reason: str | None, delivery: Any | None) -> tuple[str, str | None]:
    """The ``(state, reason)`` a notification is seen in.

    Args:
        stored_state: ``notifications.state`` (``queued`` or ``refused``).
        stored_reason: ``notifications.reason``.
        delivery: its deliveries row (``status``, ``error_code``, ``error_message``), or None.
    """
    if stored_state == REFUSED:
        return REFUSED, stored_reason
    if delivery is None or delivery.status is None:
        return QUEUED, None
    status: str = delivery.status
    state = _DELIVERY_STATES.get(status, "failed")
    if state != "failed":
        return state, None
    if delivery.error_message:
        return state, delivery.error_message
    return state, f"error {delivery.error_code}" if delivery.error_code else status


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _row(m: RowMapping) -> NotificationRow:
    return NotificationRow(
        id=m["id"],
        scope=m["scope"],
        idempotency_key=m["idempotency_key"],
        request_hash=m["request_hash"],
        kind=m["kind"],
        purpose=m["purpose"],
        reference_kind=m["reference_kind"],
        reference=m["reference"],
        channel=m["channel"],
        customer_id=m["customer_id"],
        conversation_id=m["conversation_id"],
        variables=json.loads(m["variables"]),
        language=m["language"],
        state=m["state"],
        reason=m["reason"],
        delivery_key=m["delivery_key"],
        batch=m["batch"],
        created_at=aware(m["created_at"]),
        updated_at=aware(m["updated_at"]),
    )


def _joined() -> Select[Any]:
    """Notifications with their deliveries row (LEFT JOIN on the delivery key)."""
    n, d = notifications.c, deliveries.c
    return select(
        n.id,
        n.kind,
        n.state,
        n.reason,
        n.channel,
        n.created_at,
        n.updated_at,
        n.batch,
        d.status,
        d.error_code,
        d.error_message,
        d.updated_at.label("delivery_updated_at"),
    ).select_from(notifications.outerjoin(deliveries, d.idempotency_key == n.delivery_key))


def _view(r: Any) -> NotificationView:
    delivery = r if r.status is not None else None
    state, reason = view_state(r.state, r.reason, delivery)
    updated = aware(r.updated_at)
    if r.delivery_updated_at is not None:
        updated = max(updated, aware(r.delivery_updated_at))
    return NotificationView(
        id=r.id,
        kind=r.kind,
        state=state,
        reason=reason,
        channel=r.channel,
        created_at=aware(r.created_at),
        updated_at=updated,
        batch=r.batch,
    )


class Notifications:
    """Write notification requests and read what became of them.

    Args:
        engine: the SQL engine (migrated to 0009_notifications or later).
        clock: returns an aware ``datetime`` (UTC).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def create(self, row: NewNotification) -> tuple[NotificationRow, bool]:
        """Write ``row`` unless its ``(scope, idempotency_key)`` was used before.

        Returns:
            ``(row, created)``: the new row and True, or the row written the first time the key
            was used (with the same ``request_hash``) and False.

        Raises:
            ValueError: ``state`` is not ``queued`` or ``refused``.
            IdempotencyConflict: the key was used for a different request.
            StoreUnavailable: SQL does not answer.
        """
        if row.state not in (QUEUED, REFUSED):
            raise ValueError(f"a new notification is {QUEUED!r} or {REFUSED!r}, not {row.state!r}")
        if row.idempotency_key is not None:
            existing = self._existing(row)
            if existing is not None:
                return existing, False
        now = self.clock()
        new_id = "ntf_" + uuid.uuid4().hex
        values = {
            "id": new_id,
            "scope": row.scope,
            "idempotency_key": row.idempotency_key,
            "request_hash": row.request_hash,
            "kind": row.kind,
            "purpose": row.purpose,
            "reference_kind": row.reference_kind,
            "reference": row.reference,
            "channel": row.channel,
            "customer_id": row.customer_id,
            "conversation_id": row.conversation_id,
            "variables": json.dumps(dict(row.variables), ensure_ascii=False, sort_keys=True),
            "language": row.language,
            "state": row.state,
            "reason": _cut(row.reason, MAX_REASON_LENGTH),
            "delivery_key": delivery_key(new_id) if row.state == QUEUED else None,
            "batch": row.batch,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(notifications).values(**values))
        except IntegrityError:
            # another request with the same (scope, key) committed first: answer with its row.
            existing = self._existing(row) if row.idempotency_key is not None else None
            if existing is None:
                raise
            return existing, False
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot write a {row.kind} notification: {exc}") from exc
        created = self.get(new_id)
        assert created is not None  # just committed
        return created, True

    def _existing(self, row: NewNotification) -> NotificationRow | None:
        """The row already written under ``row``'s (scope, key), checked against its request hash."""
        try:
            with self.engine.connect() as conn:
                found = (
                    conn.execute(
                        select(notifications).where(
                            notifications.c.scope == row.scope,
                            notifications.c.idempotency_key == row.idempotency_key,
                        )
                    )
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read notifications: {exc}") from exc
        if found is None:
            return None
        existing = _row(found)
        if existing.request_hash != row.request_hash:
            raise IdempotencyConflict(
                f"the idempotency key {row.idempotency_key!r} was used for a different request "
                f"(notification {existing.id}); use a new key for a new request",
                existing,
            )
        return existing

    def get(self, id: str) -> NotificationRow | None:  # noqa: A002 - the name the spec fixes
        """The row of notification ``id``, or None.

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        try:
            with self.engine.connect() as conn:
                found = conn.execute(select(notifications).where(notifications.c.id == id)).mappings().first()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read notification {id!r}: {exc}") from exc
        return None if found is None else _row(found)

    def view(self, id: str) -> NotificationView | None:  # noqa: A002 - the name the spec fixes
        """What notification ``id`` became (its deliveries row joined), or None.

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        found = self.views([id])
        return found[0] if found else None

    def views(self, ids: Sequence[str]) -> list[NotificationView]:
        """The views of ``ids``, in their order; unknown ids are left out.

        One LEFT JOIN per 5,000 ids, never a query per notification.

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        wanted = list(dict.fromkeys(ids))
        found: dict[str, NotificationView] = {}
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(wanted), _VIEW_CHUNK):
                    chunk = wanted[start : start + _VIEW_CHUNK]
                    for r in conn.execute(_joined().where(notifications.c.id.in_(chunk))):
                        found[r.id] = _view(r)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read {len(wanted)} notifications: {exc}") from exc
        return [found[i] for i in wanted if i in found]

    def batch_counts(self, batch: str) -> dict[str, int]:
        """How many notifications of bulk run ``batch`` are in each state (delivery states included).

        Returns:
            state -> count, only states with at least one notification.

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        n, d = notifications.c, deliveries.c
        stmt = (
            select(n.state, d.status, func.count())
            .select_from(notifications.outerjoin(deliveries, d.idempotency_key == n.delivery_key))
            .where(n.batch == batch)
            .group_by(n.state, d.status)
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot count the notifications of batch {batch!r}: {exc}") from exc
        counts: Counter[str] = Counter()
        for stored, status, count in rows:
            state = (
                REFUSED if stored == REFUSED else QUEUED if status is None else _DELIVERY_STATES.get(status, "failed")
            )
            counts[state] += count
        return dict(counts)

    def batch_reasons(self, batch: str, limit: int = 10) -> list[tuple[str, int]]:
        """The most common reasons notifications of ``batch`` were refused or failed.

        Returns:
            ``(reason, count)``, most common first (ties by reason), at most ``limit``.

        Raises:
            StoreUnavailable: SQL does not answer.
        """
        n, d = notifications.c, deliveries.c
        stmt = (
            select(n.state, n.reason, d.status, d.error_code, d.error_message, func.count())
            .select_from(notifications.outerjoin(deliveries, d.idempotency_key == n.delivery_key))
            .where(n.batch == batch)
            .group_by(n.state, n.reason, d.status, d.error_code, d.error_message)
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the reasons of batch {batch!r}: {exc}") from exc
        reasons: Counter[str] = Counter()
        for r in rows:
            state, reason = view_state(r.state, r.reason, r if r.status is not None else None)
            if state in (REFUSED, "failed") and reason:
                reasons[reason] += r[-1]
        return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[: max(0, limit)]

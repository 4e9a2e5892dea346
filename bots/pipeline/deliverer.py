"""Sending one reply once: the intent, retries, the deliveries row, the Redis mark, dead letters.

Idempotent send. Each Outbound carries ``idempotency_key`` (inbound message id +
reply index, set here when the handler left it empty). Before sending, the
Redis mark ``keys.sent(conversation, key)`` and then the SQL ``deliveries`` row
are checked; either one saying sent (or given up) means the reply was already
handled and it is skipped.

The intent is recorded before the call: the row gets status ``attempted`` (durable,
committed) before ``connector.send``. After a successful send the row becomes
``sent`` (durable), then the mark is set (value ``sent:<delivery id>``). Two cases
leave the outcome unknown: the channel's answer is lost (the connector raises
:class:`~connectors.errors.OutcomeUnknown`: connection dropped after the request
was written, read timeout), or the process dies after the channel accepted the
message and before the row says ``sent`` (a redo then finds ``attempted``). In both,
a connector that :class:`~connectors.base.Reconciles` (Twilio: SMS, WhatsApp)
is asked what it accepted since the intent before anything is sent again, so the
customer gets the message once. A channel that cannot be asked (Telegram: no
idempotency key, no way to list sent messages) is sent to again: at least once,
one duplicate per lost answer. The web chat's send is one atomic Redis script
keyed by the idempotency key, so resending it is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from connectors.base import Connector, Outbound, Reconciles
from connectors.errors import OUTCOME_UNKNOWN, OutcomeUnknown, PermanentSendError, SendError, TransientSendError

from ..errors import StoreUnavailable
from ..stores.models import deliveries
from ..stores.sql import conflict_insert
from . import metrics
from .delivery_parts import fit_provider_ids, record_parts
from .dlq import DeadLetters
from .keys import Keys
from .retry import RetryPolicy

log = logging.getLogger(__name__)

__all__ = ["Deliverer", "INFRASTRUCTURE_ERRORS", "ATTEMPTED", "GIVEN_UP", "ERROR_MESSAGE_LENGTH"]

#: ``deliveries.status`` while a send is under way or was cut short (written before the call).
ATTEMPTED = "attempted"
#: statuses of a reply given up on (dead-lettered); ``force`` sends it again.
GIVEN_UP = ("failed", "dead")
#: longest ``deliveries.error_message`` (longer texts are cut, ending with an ellipsis).
ERROR_MESSAGE_LENGTH = 300

#: Redis/SQL/store errors: the turn must be retried later (entry left pending), never dead-lettered.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OperationalError, StoreUnavailable)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deliverer:
    """Sends one Outbound at most once, with retries, recording it in SQL and Redis.

    Args:
        redis: Redis or RedisCluster client.
        engine: SQL engine (table ``deliveries``).
        keys: key names.
        connectors: channel name -> Connector.
        retry: the retry policy.
        dead_letters: where undeliverable replies go.
        mark_ttl: seconds the Redis "sent" mark lives (SQL keeps the durable record).
    """

    redis: Any
    engine: Engine
    keys: Keys
    connectors: Mapping[str, Connector]
    retry: RetryPolicy
    dead_letters: DeadLetters
    mark_ttl: int = 86400

    @classmethod
    def from_settings(
        cls,
        redis: Any,
        engine: Engine,
        settings: Any,
        connectors: Mapping[str, Connector],
        dead_letters: DeadLetters,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Deliverer:
        """The deliverer a worker (or ``brandbot dlq retry``) uses, from ``settings.pipeline``."""
        from .ingest import keys_for

        p = settings.pipeline
        return cls(
            redis,
            engine,
            keys_for(settings),
            connectors,
            RetryPolicy.from_settings(p, sleep=sleep),
            dead_letters,
            mark_ttl=p.dedupe_ttl_seconds,
        )

    def already_handled(self, ob: Outbound, *, include_failed: bool = True) -> bool:
        """True when the reply was sent (or, with include_failed, given up on) before.

        An ``attempted`` row is not handled: its send was cut short and is done again.
        """
        if self._marked(ob, include_failed=include_failed):
            return True
        row = self._row(ob)
        return row is not None and _handled(row.status, include_failed=include_failed)

    def _marked(self, ob: Outbound, *, include_failed: bool) -> bool:
        """Whether the Redis mark says sent (or, with include_failed, given up on)."""
        mark = self.redis.get(self.keys.sent(ob.conversation_id or "", ob.idempotency_key or ""))
        if mark is None:
            return False
        text = mark.decode() if isinstance(mark, bytes) else str(mark)
        return text.startswith("sent:") or include_failed

    def _row(self, ob: Outbound) -> Any:
        """The deliveries row of ``ob`` (status, error_code, created_at), or None."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(deliveries.c.status, deliveries.c.error_code, deliveries.c.created_at).where(
                    deliveries.c.idempotency_key == ob.idempotency_key
                )
            ).first()

    def _record(
        self,
        ob: Outbound,
        status: str,
        provider_id: str | None = None,
        error_code: str | None = None,
        parts: list[str] | None = None,
        error_message: str | None = None,
    ) -> None:
        """Upsert the deliveries row; with ``parts`` (provider ids of a sent reply, in order) also
        write its ``delivery_parts`` in the same transaction, for status callbacks.

        ``error_message`` (why it failed, at most :data:`ERROR_MESSAGE_LENGTH` characters) is
        written as given: None clears the one of an earlier failure."""
        now = _now()
        row = {
            "channel": ob.channel,
            "recipient": ob.recipient,
            "conversation_id": ob.conversation_id or "",
            "provider_id": provider_id if provider_id is None or parts is None else fit_provider_ids(parts),
            "status": status,
            "error_code": error_code,
            "error_message": error_message,
            "updated_at": now,
        }
        upsert = conflict_insert(self.engine.dialect.name, deliveries)
        with self.engine.begin() as conn:
            if upsert is not None:  # one statement: INSERT ... ON CONFLICT DO UPDATE
                upsert = upsert.values(idempotency_key=ob.idempotency_key, created_at=now, **row)
                conn.execute(upsert.on_conflict_do_update(index_elements=[deliveries.c.idempotency_key], set_=row))
            else:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(deliveries).values(idempotency_key=ob.idempotency_key, created_at=now, **row)
                        )
                except IntegrityError:
                    conn.execute(
                        update(deliveries).where(deliveries.c.idempotency_key == ob.idempotency_key).values(**row)
                    )
            if parts:
                record_parts(conn, ob.idempotency_key or "", parts, now)

    def _mark(self, ob: Outbound, value: str) -> None:
        key = self.keys.sent(ob.conversation_id or "", ob.idempotency_key or "")
        self.redis.set(key, value, ex=self.mark_ttl)

    def deliver(self, ob: Outbound, *, force: bool = False, enqueued_at: float | None = None) -> str:
        """Send ``ob`` unless it was handled before; return the outcome.

        Args:
            force: resend a reply that previously failed or was dead-lettered (never one that was sent).
            enqueued_at: epoch seconds its inbound was accepted (for the webhook->delivered histogram).

        Returns:
            "sent", "duplicate" (handled before), "failed" (permanent error) or "dead" (retries exhausted).
            Failed and dead replies are dead-lettered.

        Raises:
            StoreUnavailable / redis / SQL errors: infrastructure down; the caller must not ack.
        """
        if not ob.idempotency_key:
            raise ValueError("an Outbound needs an idempotency_key before delivery (see with_keys)")
        if not self._marked(ob, include_failed=not force):
            row = self._row(ob)
            if row is None or not _handled(row.status, include_failed=not force):
                return self._send(ob, row, enqueued_at)
        metrics.SENDS.labels(ob.channel, "duplicate").inc()
        return "duplicate"

    def _send(self, ob: Outbound, row: Any, enqueued_at: float | None) -> str:
        """Record the intent, send with retries (asking the channel first when unsure), record the outcome."""
        connector = self.connectors.get(ob.channel)
        reconciler = connector if isinstance(connector, Reconciles) else None
        since, uncertain = self._intent(ob, row)
        attempts = 0

        def send() -> str:
            nonlocal attempts, uncertain
            attempts += 1
            if connector is None:
                raise PermanentSendError(
                    f"no connector for channel {ob.channel!r}; enabled: {sorted(self.connectors) or 'none'}"
                )
            if uncertain and reconciler is not None:
                found = reconciler.reconcile(ob, since)
                if found is not None:
                    log.info(
                        "%s %s: the channel had accepted it as %s; not sent again",
                        ob.channel,
                        ob.idempotency_key,
                        found,
                    )
                    return found
            try:
                return connector.send(ob)
            except OutcomeUnknown:
                uncertain = True
                raise

        def on_retry(exc: BaseException, wait: float, attempt: int) -> None:
            metrics.RETRIES.labels(ob.channel).inc()

        try:
            provider_id = self.retry.call(send, on_retry=on_retry)
        except PermanentSendError as exc:
            return self._give_up(ob, "failed", exc, attempts, uncertain)
        except TransientSendError as exc:
            return self._give_up(ob, "dead", exc, attempts, uncertain)
        except Exception as exc:  # a connector bug: not retried, but never lost
            if isinstance(exc, INFRASTRUCTURE_ERRORS):
                raise
            log.exception("connector %s raised an unexpected error", ob.channel)
            return self._give_up(ob, "failed", exc, attempts, uncertain)
        provider_id = str(provider_id)
        parts = provider_id.split(",") if connector is not None and connector.rules.status_callbacks else None
        self._record(ob, "sent", provider_id=provider_id, parts=parts)
        self._mark(ob, f"sent:{provider_id}")
        metrics.SENDS.labels(ob.channel, "sent").inc()
        if enqueued_at is not None:
            metrics.DELIVERY_SECONDS.labels(ob.channel).observe(max(0.0, time.time() - enqueued_at))
        return "sent"

    def _intent(self, ob: Outbound, row: Any) -> tuple[datetime, bool]:
        """Record the intent to send ``ob`` (row ``attempted``, committed) before any call.

        Returns:
            Since when the channel may hold it (the first cut-short attempt's time, else
            now) and whether an earlier attempt's outcome is unknown: its row was left
            ``attempted`` (the process died mid-send) or it was given up on unsure.
        """
        now = _now()
        uncertain = row is not None and (row.status == ATTEMPTED or row.error_code == OUTCOME_UNKNOWN)
        since = _aware(row.created_at) if uncertain else now
        if uncertain:
            log.warning(
                "%s %s: an earlier attempt (%s) may have reached the channel; %s",
                ob.channel,
                ob.idempotency_key,
                since.isoformat(),
                "asking it before sending"
                if isinstance(self.connectors.get(ob.channel), Reconciles)
                else "it cannot be asked, sending again (the customer may get it twice)",
            )
        self._record(ob, ATTEMPTED, error_code=OUTCOME_UNKNOWN if uncertain else None)
        return since, uncertain

    def _give_up(self, ob: Outbound, outcome: str, exc: BaseException, attempts: int, uncertain: bool) -> str:
        """Dead-letter ``ob``; the row keeps ``outcome_unknown`` when a try may have reached the
        channel, so a forced resend asks the channel first."""
        code = OUTCOME_UNKNOWN if uncertain else exc.code if isinstance(exc, SendError) else None
        self._record(
            ob, outcome, error_code=None if code is None else str(code)[:32], error_message=_error_message(exc)
        )
        entry = self.dead_letters.add(
            "send",
            ob.to_dict(),
            f"{type(exc).__name__}: {exc}",
            attempts,
            channel=ob.channel,
            conversation_id=ob.conversation_id or "",
        )
        self._mark(ob, f"{outcome}:{entry}")
        metrics.SENDS.labels(ob.channel, outcome).inc()
        return outcome


def _error_message(exc: BaseException) -> str:
    """The exception's text for ``deliveries.error_message``: cut to its length with an ellipsis
    (its class name when it has no text)."""
    text = str(exc).strip() or type(exc).__name__
    if len(text) <= ERROR_MESSAGE_LENGTH:
        return text
    return text[: ERROR_MESSAGE_LENGTH - 1] + "…"


def _handled(status: str, *, include_failed: bool) -> bool:
    """Whether a row with ``status`` means the reply needs no send (see ``already_handled``)."""
    if status == ATTEMPTED:
        return False
    return include_failed or status not in GIVEN_UP


def _aware(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive ones back)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

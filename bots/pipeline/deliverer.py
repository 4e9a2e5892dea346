"""Sending one reply at most once: retries, the deliveries row, the Redis mark, dead letters.

Idempotent send. Each Outbound carries ``idempotency_key`` (inbound message id +
reply index, set here when the handler left it empty). Before sending, the
Redis mark ``keys.sent(conversation, key)`` and then the SQL ``deliveries`` row
are checked; either one present means the reply was already handled and it is
skipped. After a successful send the row is written first (durable), then the
mark (``SET NX``, value ``sent:<delivery id>``). A turn redone after a crash
therefore never sends twice, except when the process dies between the channel
accepting the send and the row being written (a window of one SQL insert; no
channel API here offers an idempotency key to close it).
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

from connectors.base import Connector, Outbound
from connectors.errors import PermanentSendError, SendError, TransientSendError

from ..errors import StoreUnavailable
from ..stores.models import deliveries
from ..stores.sql import conflict_insert
from . import metrics
from .delivery_parts import fit_provider_ids, record_parts
from .dlq import DeadLetters
from .keys import Keys
from .retry import RetryPolicy

log = logging.getLogger(__name__)

__all__ = ["Deliverer", "INFRASTRUCTURE_ERRORS"]

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
        """True when the reply was sent (or, with include_failed, given up on) before."""
        mark = self.redis.get(self.keys.sent(ob.conversation_id or "", ob.idempotency_key or ""))
        if mark is not None:
            text = mark.decode() if isinstance(mark, bytes) else str(mark)
            if text.startswith("sent:") or include_failed:
                return True
        with self.engine.connect() as conn:
            status = conn.execute(
                select(deliveries.c.status).where(deliveries.c.idempotency_key == ob.idempotency_key)
            ).scalar_one_or_none()
        if status is None:
            return False
        return include_failed or status not in ("failed", "dead")

    def _record(
        self,
        ob: Outbound,
        status: str,
        provider_id: str | None = None,
        error_code: str | None = None,
        parts: list[str] | None = None,
    ) -> None:
        """Upsert the deliveries row; with ``parts`` (provider ids of a sent reply, in order) also
        write its ``delivery_parts`` in the same transaction, for status callbacks."""
        now = _now()
        row = {
            "channel": ob.channel,
            "recipient": ob.recipient,
            "conversation_id": ob.conversation_id or "",
            "provider_id": provider_id if provider_id is None or parts is None else fit_provider_ids(parts),
            "status": status,
            "error_code": error_code,
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
        if self.already_handled(ob, include_failed=not force):
            metrics.SENDS.labels(ob.channel, "duplicate").inc()
            return "duplicate"
        connector = self.connectors.get(ob.channel)
        attempts = 0

        def send() -> str:
            nonlocal attempts
            attempts += 1
            if connector is None:
                raise PermanentSendError(
                    f"no connector for channel {ob.channel!r}; enabled: {sorted(self.connectors) or 'none'}"
                )
            return connector.send(ob)

        def on_retry(exc: BaseException, wait: float, attempt: int) -> None:
            metrics.RETRIES.labels(ob.channel).inc()

        try:
            provider_id = self.retry.call(send, on_retry=on_retry)
        except PermanentSendError as exc:
            return self._give_up(ob, "failed", exc, attempts)
        except TransientSendError as exc:
            return self._give_up(ob, "dead", exc, attempts)
        except Exception as exc:  # a connector bug: not retried, but never lost
            if isinstance(exc, INFRASTRUCTURE_ERRORS):
                raise
            log.exception("connector %s raised an unexpected error", ob.channel)
            return self._give_up(ob, "failed", exc, attempts)
        provider_id = str(provider_id)
        parts = provider_id.split(",") if connector is not None and connector.rules.status_callbacks else None
        self._record(ob, "sent", provider_id=provider_id, parts=parts)
        self._mark(ob, f"sent:{provider_id}")
        metrics.SENDS.labels(ob.channel, "sent").inc()
        if enqueued_at is not None:
            metrics.DELIVERY_SECONDS.labels(ob.channel).observe(max(0.0, time.time() - enqueued_at))
        return "sent"

    def _give_up(self, ob: Outbound, outcome: str, exc: BaseException, attempts: int) -> str:
        code = exc.code if isinstance(exc, SendError) else None
        self._record(ob, outcome, error_code=None if code is None else str(code)[:32])
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

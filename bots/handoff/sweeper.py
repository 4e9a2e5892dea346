"""Customers waiting too long for a person go back to the bot, with an apology.

:class:`Sweeper` finds conversations in mode ``waiting`` for more than
``handoff.max_wait_minutes``, returns each to ``bot`` through
:meth:`bots.handoff.modes.Modes.change` (actor "system", reason "wait_timeout", only if
still waiting: an agent who took it over meanwhile wins), writes the apology
(response ``handoff_timeout``) to the transcript and sends it through the pipeline's
:class:`~bots.pipeline.deliverer.Deliverer` (idempotency key
``timeout:<conversation>:<waiting_since>``: a sweep redone after a crash never sends
twice). Messages left for staff outside hours (mode ``bot``) never time out.

The queue workers call :meth:`Sweeper.run_if_due` on every round; a Redis
``SET NX PX`` lock lets one process sweep per interval across all processes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Outbound

from ..dialogue.responses import render
from ..dialogue.store import StateStore
from ..errors import StoreUnavailable
from ..live_events import encode
from ..settings.dialogue import DomainSpec
from ..stores.models import conversations, messages
from ..stores.sql import conflict_insert
from .modes import InvalidTransition, Modes

__all__ = ["Sweeper", "TIMEOUT_RESPONSE", "DEFAULT_INTERVAL"]

log = logging.getLogger(__name__)

TIMEOUT_RESPONSE = "handoff_timeout"
#: seconds between sweeps (across all processes).
DEFAULT_INTERVAL = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Sweeper:
    """Returns over-long waits to the bot.

    Args:
        settings: validated settings (``handoff.max_wait_minutes``, ``stores.key_prefix``...).
        redis: redis-py client (conversation locks, the sweep lock, live events).
        engine: SQL engine.
        deliverer: the pipeline's :class:`~bots.pipeline.deliverer.Deliverer` (anything with
            ``deliver(Outbound) -> str``).
        domain: the dialogue domain (for the ``handoff_timeout`` response).
        clock: returns an aware ``datetime``.
        interval: seconds between sweeps across processes.
    """

    def __init__(
        self,
        settings: Any,
        redis: Any,
        engine: Engine,
        deliverer: Any,
        domain: DomainSpec,
        clock: Callable[[], datetime] = _utcnow,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        d = settings.dialogue
        prefix = settings.stores.key_prefix
        self.settings = settings
        self.redis = redis
        self.engine = engine
        self.deliverer = deliverer
        self.domain = domain
        self.clock = clock
        self.interval = interval
        self.store = StateStore(
            redis,
            prefix=prefix,
            state_ttl=d.state_ttl_seconds,
            lock_ttl=d.lock_ttl_seconds,
            lock_wait=d.lock_wait_seconds,
        )
        self.modes = Modes(self.store, engine, clock)
        self.lock_key = f"{prefix}:handoff:sweep-lock"

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        redis: Any,
        engine: Engine,
        deliverer: Any,
        clock: Callable[[], datetime] = _utcnow,
        interval: float = DEFAULT_INTERVAL,
    ) -> Sweeper:
        """With the domain read from the settings (``dialogue.domain_file`` and inline keys)."""
        from ..dialogue.domain import load_domain

        return cls(settings, redis, engine, deliverer, load_domain(settings), clock, interval)

    # ------------------------------------------------------------------
    def run_if_due(self) -> int:
        """Sweep unless another process did within ``interval`` seconds. Returns conversations returned."""
        token = uuid.uuid4().hex
        if not self.redis.set(self.lock_key, token, nx=True, px=int(self.interval * 1000)):
            return 0
        return self.sweep()

    def overdue(self, now: datetime | None = None) -> list[Any]:
        """Rows (id, channel, customer_id, language, waiting_since) waiting longer than allowed, oldest first."""
        now = now or self.clock()
        cutoff = now.astimezone(UTC) - timedelta(minutes=self.settings.handoff.max_wait_minutes)
        c = conversations.c
        try:
            with self.engine.connect() as conn:
                return list(
                    conn.execute(
                        select(c.id, c.channel, c.customer_id, c.language, c.waiting_since)
                        .where(and_(c.mode == "waiting", c.waiting_since.is_not(None), c.waiting_since <= cutoff))
                        .order_by(c.waiting_since)
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot read the waiting conversations: {exc}") from exc

    def sweep(self) -> int:
        """Return every overdue conversation to the bot and apologise. Returns how many.

        Raises:
            StoreUnavailable / redis errors: infrastructure down (the next sweep retries).
        """
        done = 0
        for row in self.overdue():
            if self._time_out(row):
                done += 1
        if done:
            log.info("handoff sweeper: %d conversation(s) waited too long and went back to the bot", done)
        return done

    def _time_out(self, row: Any) -> bool:
        since = _aware(row.waiting_since)
        language = row.language or self.settings.brand.default_language
        reply = render(self.domain, TIMEOUT_RESPONSE, language, {}, self.settings.brand.default_language)
        key = f"timeout:{row.id}:{since.isoformat()}"
        ob = Outbound(
            channel=row.channel,
            recipient=row.customer_id,
            text=reply.text,
            quick_replies=(),
            kind="handoff",
            idempotency_key=key,
            conversation_id=row.id,
        )
        now = self.clock()
        event = encode(
            {
                "type": "message",
                "conversation_id": row.id,
                "channel": row.channel,
                "direction": "out",
                "author": "bot",
                "message_id": key,
                "text": reply.text,
                "nlu": None,
                "mode": "bot",
                "language": language,
                "at": now,
            }
        )
        try:
            self.modes.change(
                row.id,
                row.channel,
                "bot",
                actor="system",
                reason="wait_timeout",
                expect=("waiting",),
                extra_events=(event,),
            )
        except InvalidTransition:
            return False  # taken over (or cancelled) meanwhile
        self._record(row.id, row.channel, key, reply.text, now)
        self.deliverer.deliver(ob)
        return True

    def _record(self, conversation_id: str, channel: str, key: str, text: str, now: datetime) -> None:
        ins = conflict_insert(self.engine.dialect.name, messages)
        if ins is None:
            raise StoreUnavailable(f"SQL dialect {self.engine.dialect.name!r} is not supported")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    ins.on_conflict_do_nothing(),
                    [
                        {
                            "conversation_id": conversation_id,
                            "direction": "out",
                            "channel": channel,
                            "message_id": key,
                            "text": text,
                            "data": {"kind": "handoff", "quick_replies": [], "reason": "wait_timeout"},
                            "created_at": now,
                        }
                    ],
                )
                conn.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(last_message_at=now, last_preview=text[:200])
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot record the timeout apology of {conversation_id!r}: {exc}") from exc

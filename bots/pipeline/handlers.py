"""A turn: run the dialogue handler on one inbound, then deliver each reply (see :mod:`.deliverer`).

Each Outbound gets an ``idempotency_key`` (inbound message id + reply index) here when
the handler left it empty, so a turn redone after a crash sends nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import Connector, Inbound, NotesInbound, Outbound, ResolvesInbound

from . import metrics
from .deliverer import INFRASTRUCTURE_ERRORS, Deliverer
from .dlq import DeadLetters
from .turn import Handler, TurnResult

log = logging.getLogger(__name__)

__all__ = ["Handler", "TurnResult", "TurnRunner", "with_keys", "resolve_inbound"]


def with_keys(inbound: Inbound, outbounds: Iterable[Outbound]) -> list[Outbound]:
    """Fill a missing idempotency key (``channel:message_id:index``) and conversation id."""
    out = []
    for i, ob in enumerate(outbounds):
        changes: dict[str, Any] = {}
        if not ob.idempotency_key:
            changes["idempotency_key"] = f"{inbound.channel}:{inbound.message_id}:{i}"
        if not ob.conversation_id:
            changes["conversation_id"] = inbound.conversation_id
        out.append(replace(ob, **changes) if changes else ob)
    return out


def resolve_inbound(connectors: Mapping[str, Connector], inbound: Inbound) -> Inbound:
    """The channel's bookkeeping before the turn: ``resolve`` for a connector that
    :class:`~connectors.base.ResolvesInbound` (Twilio: 24-hour window, SMS keywords, numbered
    options), else ``note_inbound`` for one that :class:`~connectors.base.NotesInbound`.
    Webhooks only parse (no channel state), so this runs in the worker, where one
    conversation's messages come in order.

    Raises:
        redis errors: infrastructure down; the caller must not ack.
    """
    connector = connectors.get(inbound.channel)
    if isinstance(connector, ResolvesInbound):
        return connector.resolve(inbound)
    if isinstance(connector, NotesInbound):
        connector.note_inbound(inbound)
    return inbound


def _count_handoffs(channel: str, result: TurnResult) -> None:
    """A turn (not a replay) whose events include ``handoff_requested`` counts one handoff."""
    if result.replayed:
        return
    for event in result.events:
        if event.get("type") == "handoff_requested":
            metrics.HANDOFFS.labels(channel).inc()


@dataclass
class TurnOutcome:
    outcomes: list[str]
    dead_lettered: bool = False


@dataclass
class TurnRunner:
    """Runs the handler for one inbound and delivers its replies.

    Handler errors are retried ``max_attempts`` times, then the inbound is
    dead-lettered (kind ``turn``). Infrastructure errors (Redis, SQL) propagate:
    the caller leaves the message pending and it is redone later.
    """

    handler: Handler
    deliverer: Deliverer
    dead_letters: DeadLetters
    max_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep

    def run(self, inbound: Inbound, enqueued_at: float | None = None) -> TurnOutcome:
        inbound = resolve_inbound(self.deliverer.connectors, inbound)
        outbounds: list[Outbound] | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = self.handler(inbound)
                outbounds = with_keys(inbound, result.outbounds)
                _count_handoffs(inbound.channel, result)
                break
            except Exception as exc:
                if isinstance(exc, INFRASTRUCTURE_ERRORS):
                    raise
                metrics.TURN_ERRORS.labels(type(exc).__name__).inc()
                log.exception("turn for %s failed (try %d of %d)", inbound.conversation_id, attempt, self.max_attempts)
                if attempt == self.max_attempts:
                    self.dead_letters.add(
                        "turn",
                        inbound.to_dict(),
                        f"{type(exc).__name__}: {exc}",
                        attempt,
                        channel=inbound.channel,
                        conversation_id=inbound.conversation_id,
                    )
                    return TurnOutcome([], dead_lettered=True)
                self.sleep(0.05 * attempt)
        assert outbounds is not None
        return TurnOutcome([self.deliverer.deliver(ob, enqueued_at=enqueued_at) for ob in outbounds])

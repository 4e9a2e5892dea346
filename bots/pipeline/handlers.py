"""A turn: run the dialogue handler on one inbound, then deliver each reply (see :mod:`.deliverer`).

Each Outbound gets an ``idempotency_key`` (inbound message id + reply index) here when
the handler left it empty, so a turn redone after a crash sends nothing twice.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import Connector, Inbound, NotesInbound, Outbound, ResolvesInbound, ShowsTyping

from ..notifications.events import NOTIFICATION_EVENT
from . import metrics
from .deliverer import INFRASTRUCTURE_ERRORS, Deliverer
from .dlq import DeadLetters
from .turn import Apology, Handler, TurnResult

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
    conversation's messages come in order. A connector that :class:`~connectors.base.ShowsTyping`
    then shows "typing..." for a message or a pressed button (Meta's channels). A notification's
    event is brandbot's own, not the customer's: it is left alone (it opens no reply window).

    Raises:
        redis errors: infrastructure down; the caller must not ack.
    """
    if inbound.kind == "event" and inbound.event == NOTIFICATION_EVENT:
        return inbound  # ours, not the customer's: no window opens, nothing to show as typing
    connector = connectors.get(inbound.channel)
    resolved = inbound
    if isinstance(connector, ResolvesInbound):
        resolved = connector.resolve(inbound)
    elif isinstance(connector, NotesInbound):
        connector.note_inbound(inbound)
    if isinstance(connector, ShowsTyping) and resolved.kind in ("message", "callback"):
        connector.typing(resolved)
    return resolved


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

    A poison message (its turn raises whatever the cause: a bug, data a store refuses) is tried
    ``max_attempts`` times in a row, ``retry_seconds`` x attempt apart, then dead-lettered
    (kind ``turn``, with the traceback) and the customer gets the ``apology`` instead of
    silence. So it holds its shard for a few turns' time, never for the redelivery cycle.

    Infrastructure errors (Redis, SQL unreachable) propagate: the caller leaves the message
    pending and it is redone later. But an infrastructure-looking error while ``stores_answer``
    says both stores answer belongs to the message (PostgreSQL refusing a NUL byte raised as a
    store error once): it counts as a failed try like any other.
    """

    handler: Handler
    deliverer: Deliverer
    dead_letters: DeadLetters
    max_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep
    #: the reply sent when the message is dead-lettered (None: none).
    apology: Apology | None = None
    #: True when Redis and SQL answer now (None: every infrastructure error is taken as an outage).
    stores_answer: Callable[[], bool] | None = None
    retry_seconds: float = 0.05

    def _outage(self, exc: BaseException) -> bool:
        """True when ``exc`` means the stores are down (leave the message pending), not the message's fault."""
        if not isinstance(exc, INFRASTRUCTURE_ERRORS):
            return False
        return self.stores_answer is None or not self.stores_answer()

    def run(self, inbound: Inbound, enqueued_at: float | None = None) -> TurnOutcome:
        outbounds: list[Outbound] | None = None
        after: Callable[[], Any] | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                resolved = resolve_inbound(self.deliverer.connectors, inbound)
                result = self.handler(resolved)
                outbounds = with_keys(resolved, result.outbounds)
                after = result.after_delivery
                _count_handoffs(inbound.channel, result)
                break
            except Exception as exc:
                if self._outage(exc):
                    raise
                metrics.TURN_ERRORS.labels(type(exc).__name__).inc()
                log.exception("turn for %s failed (try %d of %d)", inbound.conversation_id, attempt, self.max_attempts)
                if attempt == self.max_attempts:
                    self.give_up(inbound, f"{type(exc).__name__}: {exc}", attempt, traceback.format_exc())
                    return TurnOutcome([], dead_lettered=True)
                self.sleep(self.retry_seconds * attempt)
        assert outbounds is not None
        connector = self.deliverer.connectors.get(inbound.channel)
        if not outbounds and isinstance(connector, ShowsTyping) and inbound.kind in ("message", "callback"):
            connector.typing_done(inbound)  # a person has the conversation: take "typing..." back
        outcomes = [self._deliver(ob, enqueued_at) for ob in outbounds]
        if after is not None:
            after()  # an error leaves the message pending: the redone turn replays and repeats it
        return TurnOutcome(outcomes)

    def _deliver(self, ob: Outbound, enqueued_at: float | None) -> str:
        """One reply through the Deliverer; an error that is not an outage (a bug, a row a store
        refuses) dead-letters that reply (kind ``send``) instead of holding the message pending."""
        try:
            return self.deliverer.deliver(ob, enqueued_at=enqueued_at)
        except Exception as exc:
            if self._outage(exc):
                raise
            log.exception("delivering %s failed", ob.idempotency_key)
            self.dead_letters.add(
                "send",
                ob.to_dict(),
                f"{type(exc).__name__}: {exc}",
                1,
                channel=ob.channel,
                conversation_id=ob.conversation_id or "",
                traceback=traceback.format_exc(),
            )
            return "failed"

    def give_up(self, inbound: Inbound, reason: str, attempts: int, trace: str = "") -> None:
        """Apologise to the customer (once), then dead-letter the inbound with its reason and traceback.

        The apology goes first: if the stores fail while sending it, nothing is recorded and the
        message stays pending; a redo sends no second apology (its idempotency key).
        """
        if self.apology is not None and inbound.kind in ("message", "callback"):  # not for events, edits
            for ob in self.apology(inbound):
                self.deliverer.deliver(ob)
        self.dead_letters.add(
            "turn",
            inbound.to_dict(),
            reason,
            attempts,
            channel=inbound.channel,
            conversation_id=inbound.conversation_id,
            traceback=trace,
        )

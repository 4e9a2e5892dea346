"""What a turn hands the pipeline: the replies to send, in order, and what happened.

The dialogue's :class:`bots.dialogue.runtime.TurnResult` extends it with the NLU result and
the new state; a custom ``--pipeline`` handler returns this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Inbound, Outbound

__all__ = ["TurnResult", "Handler", "Apology"]


@dataclass
class TurnResult:
    """One turn's outcome for the pipeline."""

    #: replies to deliver, in order (idempotency keys are filled in by the pipeline when empty).
    outbounds: list[Outbound]
    #: what happened ({"type": "handoff_requested"}, flow events...), counted in the metrics.
    events: list[dict[str, Any]] = field(default_factory=list)
    #: a redelivered inbound answered from the record: nothing new happened (not counted again).
    replayed: bool = False
    #: run once the replies are delivered (an erasure the customer confirmed: its confirmation
    #: must go out first); if it raises, the message stays pending and the redone turn repeats it.
    after_delivery: Callable[[], Any] | None = None


#: the dialogue seen by the pipeline: one inbound in, its TurnResult out.
Handler = Callable[[Inbound], TurnResult]

#: what the customer is told when their message is dead-lettered (one reply, its own idempotency key).
Apology = Callable[[Inbound], list[Outbound]]

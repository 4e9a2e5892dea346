"""The dead-letter stream: what could not be delivered, for an operator to see and retry.

Two kinds of entries:

- ``send``: a reply whose sends all failed (transient errors to the last try) or
  failed for good (permanent error). Retrying sends it again (it is never sent
  twice: the "sent" mark is checked first).
- ``turn``: an inbound message the dialogue could not handle (it raised
  ``turn_max_attempts`` times, or the workers reading it stopped ``max_deliveries`` times);
  the customer got an apology. Each entry keeps the traceback of the last failure.
  Retrying puts it back on its shard's stream.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis

from connectors.base import Inbound, Outbound

from ..errors import StoreUnavailable
from . import metrics
from .keys import Keys

log = logging.getLogger(__name__)

__all__ = ["DeadLetter", "DeadLetters", "RetryOutcome"]

Kind = Literal["send", "turn"]


def _s(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


@dataclass(frozen=True)
class DeadLetter:
    """One dead-letter entry."""

    id: str
    kind: str
    channel: str
    conversation_id: str
    error: str
    attempts: int
    at: float
    #: the Outbound (kind send) or Inbound (kind turn) as a dict.
    payload: dict[str, Any]
    #: the Python traceback of the last failure, when there was one.
    traceback: str = ""

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.at))

    def outbound(self) -> Outbound:
        return Outbound.from_dict(self.payload)

    def inbound(self) -> Inbound:
        return Inbound.from_dict(self.payload)


@dataclass(frozen=True)
class RetryOutcome:
    id: str
    ok: bool
    detail: str


class DeadLetters:
    """Add, list and retry dead letters (stream ``keys.dlq``).

    Args:
        redis: Redis or RedisCluster client.
        keys: the deployment's key names.
        maxlen: approximate cap of the stream.
    """

    def __init__(self, redis: Any, keys: Keys, maxlen: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.keys = keys
        self.maxlen = maxlen
        self.clock = clock

    def add(
        self,
        kind: Kind,
        payload: dict[str, Any],
        error: str,
        attempts: int,
        channel: str,
        conversation_id: str,
        traceback: str = "",
    ) -> str:
        """Record one dead letter (``traceback``: of the last failure, kept up to 20,000 characters)."""
        fields = {
            "kind": kind,
            "channel": channel,
            "conversation_id": conversation_id,
            "error": error[:2000],
            "attempts": str(attempts),
            "at": repr(self.clock()),
            "payload": json.dumps(payload, ensure_ascii=False, default=str),
            "traceback": traceback[-20_000:],
        }
        entry = _s(self.redis.xadd(self.keys.dlq, fields, maxlen=self.maxlen, approximate=True))
        metrics.DEAD_LETTERS.labels(kind).inc()
        log.error(
            "dead-lettered %s for %s on %s after %d tries: %s (id %s)",
            kind,
            conversation_id,
            channel,
            attempts,
            error,
            entry,
        )
        return entry

    @staticmethod
    def _decode(entry_id: Any, fields: dict[Any, Any]) -> DeadLetter:
        f = {_s(k): _s(v) for k, v in fields.items()}
        return DeadLetter(
            id=_s(entry_id),
            kind=f.get("kind", "?"),
            channel=f.get("channel", "?"),
            conversation_id=f.get("conversation_id", "?"),
            error=f.get("error", ""),
            attempts=int(f.get("attempts", "0") or 0),
            at=float(f.get("at", "0") or 0),
            payload=json.loads(f.get("payload", "{}")),
            traceback=f.get("traceback", ""),
        )

    def list(self, count: int = 100) -> list[DeadLetter]:
        """The oldest ``count`` dead letters, oldest first."""
        try:
            rows = self.redis.xrange(self.keys.dlq, count=count)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"cannot read the dead-letter stream: Redis unreachable ({exc})") from exc
        return [self._decode(i, f) for i, f in rows]

    def count(self) -> int:
        return int(self.redis.xlen(self.keys.dlq))

    def get(self, entry_id: str) -> DeadLetter | None:
        rows = self.redis.xrange(self.keys.dlq, min=entry_id, max=entry_id, count=1)
        return self._decode(*rows[0]) if rows else None

    def remove(self, entry_id: str) -> bool:
        return bool(self.redis.xdel(self.keys.dlq, entry_id))

    def retry(
        self, entry_id: str, resend: Callable[[Outbound], str], requeue: Callable[[Inbound], str]
    ) -> RetryOutcome:
        """Retry one entry: resend a reply or requeue an inbound; removed on success, kept otherwise.

        Args:
            resend: sends an Outbound (with its retries); returns an outcome word ("sent", "duplicate",
                "failed", "dead"). Anything but sent/duplicate keeps the entry.
            requeue: puts an Inbound back on the queue.
        """
        letter = self.get(entry_id)
        if letter is None:
            return RetryOutcome(entry_id, False, f"no dead letter with id {entry_id!r} (see `brandbot dlq list`)")
        if letter.kind == "turn":
            new_id = requeue(letter.inbound())
            self.remove(entry_id)
            return RetryOutcome(entry_id, True, f"requeued as {new_id}")
        if letter.kind == "send":
            outcome = resend(letter.outbound())
            # a failed resend records a fresh dead letter, so the old one goes either way
            self.remove(entry_id)
            if outcome in ("sent", "duplicate"):
                return RetryOutcome(entry_id, True, outcome)
            return RetryOutcome(entry_id, False, f"send {outcome} again; recorded as a new dead letter")
        return RetryOutcome(entry_id, False, f"unknown dead-letter kind {letter.kind!r} (valid: send, turn)")

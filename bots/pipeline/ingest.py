"""Ingest: dedupe an inbound message and append it to its shard's stream.

Queue policy (backpressure): workers delete each entry when they acknowledge
it, so a shard stream holds only its backlog. Ingest refuses a message when its
shard already holds ``ceil(stream_maxlen / shards)`` entries (:class:`QueueFull`,
a :class:`~bots.errors.StoreUnavailable`: the webhook answers 503 and the channel
retries later) rather than trim unread messages. XADD still carries
``MAXLEN ~`` with the same cap as a hard memory bound.

Dedupe, the backlog check and XADD run as one Lua script on keys of one hash
slot, so a message refused for a full queue is not remembered as seen.

Durability: the webhook answers 200 once Redis has the entry in memory. A Redis
stopped cleanly (or restarted) keeps it (append-only file, as the embedded Redis
runs); a Redis *crash* loses what its fsync policy had not written yet
(``appendfsync everysec``: up to one second). Where that matters, run Redis with
``appendfsync always`` or a replica.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Callable, Iterable

import redis

from connectors.base import Inbound

from ..errors import StoreUnavailable
from ..settings import Settings
from ..stores.redis_client import describe as describe_redis
from . import metrics
from .keys import Keys
from .scripts import script

__all__ = ["Ingest", "QueueFull", "describe_redis"]


class QueueFull(StoreUnavailable):
    """Raised when a shard of the inbound queue holds its maximum backlog (answer 503, retry later)."""


def keys_for(settings: Settings) -> Keys:
    return Keys(settings.stores.key_prefix, settings.pipeline.shards)


class Ingest:
    """Accept parsed inbound messages into the durable queue.

    Args:
        redis: a ``redis.Redis`` or ``redis.cluster.RedisCluster`` client.
        settings: the validated settings (``pipeline`` and ``stores.key_prefix``).
        clock: epoch seconds (stored with each entry to measure lag and latency).
    """

    def __init__(self, redis: Any, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = keys_for(settings)
        self.clock = clock
        self.shard_cap = max(1, math.ceil(settings.pipeline.stream_maxlen / settings.pipeline.shards))

    def accept(self, inbounds: Iterable[Inbound]) -> int:
        """Dedupe and enqueue; return how many were new (duplicates are dropped silently and counted).

        Raises:
            QueueFull: a shard's backlog is at its cap (nothing of that message kept).
            StoreUnavailable: Redis cannot be reached.
        """
        added = 0
        for inbound in inbounds:
            shard = self.keys.shard_of(inbound.conversation_id)
            args = [
                self.settings.pipeline.dedupe_ttl_seconds,
                self.shard_cap,
                json.dumps(inbound.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str),
                repr(self.clock()),
                inbound.conversation_id,
            ]
            keys = [self.keys.dedupe(shard, inbound.channel, inbound.message_id), self.keys.stream(shard)]
            try:
                result = script(self.redis, "ingest")(keys=keys, args=args)
            except redis.RedisError as exc:
                raise StoreUnavailable(
                    f"cannot enqueue {inbound.channel} message {inbound.message_id!r}: Redis at "
                    f"{describe_redis(self.redis)} is unreachable ({exc}); the channel will retry"
                ) from exc
            if result == -1:
                metrics.INBOUND.labels(inbound.channel, "refused").inc()
                raise QueueFull(
                    f"inbound queue shard {shard} holds {self.shard_cap} unprocessed messages "
                    f"(pipeline.stream_maxlen={self.settings.pipeline.stream_maxlen} over "
                    f"{self.settings.pipeline.shards} shards); workers are behind or stopped: start more `brandbot worker`"
                )
            if result == 0:
                metrics.INBOUND.labels(inbound.channel, "duplicate").inc()
                continue
            metrics.INBOUND.labels(inbound.channel, "accepted").inc()
            added += 1
        return added

    def requeue(self, inbound: Inbound) -> str:
        """Append ``inbound`` again without dedupe (a dead-lettered turn retried by an operator)."""
        shard = self.keys.shard_of(inbound.conversation_id)
        try:
            entry = self.redis.xadd(
                self.keys.stream(shard),
                {
                    "m": json.dumps(inbound.to_dict(), ensure_ascii=False, default=str),
                    "at": repr(self.clock()),
                    "c": inbound.conversation_id,
                },
            )
        except redis.RedisError as exc:
            raise StoreUnavailable(f"cannot requeue message {inbound.message_id!r}: Redis unreachable ({exc})") from exc
        return entry.decode() if isinstance(entry, bytes) else str(entry)

"""Ingest: dedupe an inbound message and append it to its shard's stream.

Queue policy (backpressure): workers delete each entry when they acknowledge
it, so a shard stream holds only its backlog. Ingest refuses a message when its
shard already holds ``ceil(stream_maxlen / shards)`` entries (:class:`QueueFull`,
a :class:`~bots.errors.StoreUnavailable`: the webhook answers 503 and the channel
retries later) rather than trim unread messages. XADD still carries
``MAXLEN ~`` with the same cap as a hard memory bound.

Dedupe, the backlog check and XADD run as one Lua script on keys of one hash
slot, so a message refused for a full queue is not remembered as seen.

Group commit: on a single Redis, concurrent request threads of one process share
one pipelined round trip (:class:`~bots.pipeline.batching.GroupCommit`: the first
thread with no batch in flight sends everything queued, one EVALSHA per message,
and each caller gets its own result; no timer, so no added latency at low load).
Each message is still deduped, refused or appended on its own, and ``accept``
returns only once Redis has answered for it. On Redis Cluster each message is its
own call.

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
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError

from connectors.base import Inbound

from ..errors import StoreUnavailable
from ..settings import Settings
from ..stores.redis_client import describe as describe_redis
from . import metrics
from .batching import GroupCommit
from .keys import Keys
from .scripts import lua_source, script

__all__ = ["Ingest", "QueueFull", "describe_redis", "ingest_for"]


class QueueFull(StoreUnavailable):
    """Raised when a shard of the inbound queue holds its maximum backlog (answer 503, retry later)."""


def ingest_for(services: Any) -> Ingest:
    """The process's one :class:`Ingest` (built on first use, kept in ``services.ingest``).

    Webhooks and the web chat share it, so their concurrent enqueues share one group commit.
    """
    if services.ingest is None:
        services.ingest = Ingest(services.redis, services.settings)
    return services.ingest


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
        # single Redis: group commit of concurrent callers; Redis Cluster: one call per message
        self._batcher: GroupCommit | None = None if isinstance(redis, RedisCluster) else GroupCommit(self._send_batch)
        self._sha = script(redis, "ingest").sha

    def accept(self, inbounds: Iterable[Inbound]) -> int:
        """Dedupe and enqueue, one message after the other; return how many were new.

        Duplicates are dropped silently and counted. A message raising stops the call
        (the ones before it are enqueued, the ones after it not tried).

        Raises:
            QueueFull: a shard's backlog is at its cap (nothing of that message kept).
            StoreUnavailable: Redis cannot be reached.
        """
        added = 0
        for inbound in inbounds:
            shard = self.keys.shard_of(inbound.conversation_id)
            args = (
                self.settings.pipeline.dedupe_ttl_seconds,
                self.shard_cap,
                json.dumps(inbound.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str),
                repr(self.clock()),
                inbound.conversation_id,
            )
            keys = (self.keys.dedupe(shard, inbound.channel, inbound.message_id), self.keys.stream(shard))
            try:
                if self._batcher is None:
                    result = script(self.redis, "ingest")(keys=list(keys), args=list(args))
                else:
                    result = self._batcher.submit((keys, args))
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
                    f"{self.settings.pipeline.shards} shards); workers are behind or stopped: "
                    "start more `brandbot worker`"
                )
            if result == 0:
                metrics.INBOUND.labels(inbound.channel, "duplicate").inc()
                continue
            metrics.INBOUND.labels(inbound.channel, "accepted").inc()
            added += 1
        return added

    def _send_batch(self, calls: Sequence[tuple[tuple[str, ...], tuple[Any, ...]]]) -> list[Any]:
        """Run the ingest script once per call in one pipelined round trip; one result (or error) per call."""
        results = self._pipelined(calls)
        missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missing:  # Redis restarted or its scripts were flushed: load once, redo only those (they did not run)
            self.redis.script_load(lua_source("ingest"))
            for i, r in zip(missing, self._pipelined([calls[i] for i in missing]), strict=True):
                results[i] = r
        return results

    def _pipelined(self, calls: Sequence[tuple[tuple[str, ...], tuple[Any, ...]]]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(self._sha, len(keys), *keys, *args)
        return list(pipe.execute(raise_on_error=False))

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

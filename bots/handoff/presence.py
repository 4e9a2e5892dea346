"""Which staff are signed in to the console: a Redis sorted set of staff id -> last heartbeat.

The console's event stream calls :meth:`Presence.beat` when it opens and on each
heartbeat; :meth:`Presence.online` counts the staff seen within ``ttl_seconds``
(``handoff.presence_seconds``). A closed tab simply stops beating and drops out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["Presence", "presence_key"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def presence_key(prefix: str) -> str:
    return f"{prefix}:presence"


class Presence:
    """Staff heartbeats in one ZSET (``<prefix>:presence``).

    Args:
        redis: a redis-py client.
        prefix: ``stores.key_prefix``.
        ttl_seconds: a beat counts this long.
        clock: returns an aware ``datetime``.
    """

    def __init__(self, redis: Any, prefix: str, ttl_seconds: float, clock: Callable[[], datetime] = _utcnow) -> None:
        self.redis = redis
        self.key = presence_key(prefix)
        self.ttl = float(ttl_seconds)
        self.clock = clock

    def _now(self) -> float:
        return self.clock().timestamp()

    def beat(self, staff_id: int | str) -> None:
        """Mark ``staff_id`` as online now (and forget beats long expired). One round trip."""
        now = self._now()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.key, {str(staff_id): now})
        pipe.zremrangebyscore(self.key, "-inf", now - 10 * self.ttl)
        pipe.expire(self.key, int(10 * self.ttl) + 1)
        pipe.execute()

    def drop(self, staff_id: int | str) -> None:
        """Mark ``staff_id`` as gone (signed out)."""
        self.redis.zrem(self.key, str(staff_id))

    def online(self) -> int:
        """Staff whose last beat is within ``ttl_seconds``."""
        return int(self.redis.zcount(self.key, self._now() - self.ttl, "+inf"))

    def online_ids(self) -> list[str]:
        """Ids of the staff online, most recent beat first."""
        raw = self.redis.zrevrangebyscore(self.key, "+inf", self._now() - self.ttl)
        return [r.decode() if isinstance(r, bytes) else str(r) for r in raw]

"""Redis-backed rate limits shared by every process, on the ``limits`` library.

A send first acquires a slot in each of its limits (per chat, overall). When a
slot frees up soon it waits; when not, it raises :class:`RateLimited` so the
runtime retries later instead of blocking a worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import redis
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["Rate", "RateLimited", "RedisRateLimiter"]


class RateLimited(Exception):
    """Raised when no slot frees up within the allowed wait; ``retry_after`` in seconds."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"rate limit {key!r} is full; retry in {retry_after:.2f} s")
        self.key = key
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    """``amount`` events per ``seconds`` (1 per 1 s, 30 per 1 s, 20 per 60 s)."""

    amount: int
    seconds: int = 1

    def item(self) -> RateLimitItem:
        if self.seconds % 60 == 0:
            return RateLimitItemPerMinute(self.amount, self.seconds // 60)
        return RateLimitItemPerSecond(self.amount, self.seconds)


class RedisRateLimiter:
    """Moving-window limits kept in Redis so they hold across processes and machines.

    Args:
        client: the Redis client (its connection pool is reused).
        key_prefix: prefix of the keys (a deployment's ``stores.key_prefix`` plus the channel).
        sleep: how to wait (injected in tests).
        clock: seconds since the epoch.
    """

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = RedisStorage("redis://", connection_pool=client.connection_pool, key_prefix=key_prefix)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._sleep = sleep
        self._clock = clock

    def _wait_for(self, item: RateLimitItem, key: str) -> float:
        stats = self._limiter.get_window_stats(item, key)
        return max(0.0, stats.reset_time - self._clock())

    def acquire(self, limits: Sequence[tuple[Rate, str]], max_wait: float) -> float:
        """Take one slot in every ``(rate, key)``; wait up to ``max_wait`` seconds for them.

        Keys should carry the customer in a hash tag (``{telegram:42}``).

        Returns:
            The seconds spent waiting.

        Raises:
            RateLimited: the slots would not free up within ``max_wait``.
        """
        items = [(rate.item(), key) for rate, key in limits]
        waited = 0.0
        while True:
            waits = [(self._wait_for(item, key), key) for item, key in items if not self._limiter.test(item, key)]
            if not waits:
                if all(self._limiter.hit(item, key) for item, key in items):
                    return waited
                continue
            wait, key = max(waits)
            wait = max(wait, 0.01)
            if waited + wait > max_wait:
                raise RateLimited(key, wait)
            self._sleep(wait)
            waited += wait

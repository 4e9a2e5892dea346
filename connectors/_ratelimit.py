"""Redis-backed rate limits shared by every process: all of a send's limits in one Lua call.

A send takes a slot in each of its limits (per chat, overall) in one atomic script
(``lua/ratelimit.lua``): all of them or none, so a send refused by the overall limit
does not spend its per-chat slot. When a slot frees up soon it waits; when not, it raises
:class:`RateLimited` so the runtime retries later instead of blocking a worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis

__all__ = ["Rate", "RateLimited", "RedisRateLimiter"]

_LUA = Path(__file__).resolve().parent / "lua" / "ratelimit.lua"


@lru_cache(maxsize=1)
def _lua_source() -> str:
    return _LUA.read_text(encoding="utf-8")


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


class RedisRateLimiter:
    """Moving-window limits kept in Redis so they hold across processes and machines.

    Our own Lua script rather than the ``limits`` library: ``limits`` takes one limit per call,
    and a send needs all of its limits taken atomically (all or nothing).

    Args:
        client: the Redis (or RedisCluster) client.
        key_prefix: prefix of the keys (a deployment's ``stores.key_prefix`` plus the channel);
            it is the keys' hash tag, so one script can touch all of them on a cluster.
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
        self._script: Any = client.register_script(_lua_source())
        self._prefix = key_prefix
        self._sleep = sleep
        self._clock = clock

    def key(self, rate: Rate, key: str) -> str:
        """The Redis list holding the recent hits of ``key`` under ``rate``."""
        return f"{{{self._prefix}}}:{key}:{rate.amount}/{rate.seconds}"

    def try_acquire(self, limits: Sequence[tuple[Rate, str]]) -> tuple[str, float] | None:
        """Take one slot in every ``(rate, key)``, or none.

        Returns:
            None when taken; else ``(key, seconds)``: the full limit that frees up last, and when.
        """
        args: list[Any] = [repr(self._clock())]
        for rate, _key in limits:
            args += [rate.amount, rate.seconds]
        full, wait = self._script(keys=[self.key(rate, key) for rate, key in limits], args=args)
        if int(full) == 0:
            return None
        return limits[int(full) - 1][1], float(wait)

    def acquire(self, limits: Sequence[tuple[Rate, str]], max_wait: float) -> float:
        """Take one slot in every ``(rate, key)``; wait up to ``max_wait`` seconds for them.

        Returns:
            The seconds spent waiting.

        Raises:
            RateLimited: the slots would not free up within ``max_wait`` (none was taken).
        """
        waited = 0.0
        while True:
            blocked = self.try_acquire(limits)
            if blocked is None:
                return waited
            key, wait = blocked
            wait = max(wait, 0.01)
            if waited + wait > max_wait:
                raise RateLimited(key, wait)
            self._sleep(wait)
            waited += wait

"""Refused API keys counted per client address on Redis (the ``limits`` library, moving window).

The sign-in throttle of :mod:`bots.staff.throttle` counts per address *and* account and
words its answer for people; a machine has no account, so this one counts per address only.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from ..errors import StoreUnavailable

__all__ = ["KeyThrottle"]


def _limits_uri(redis_url: str) -> str:
    # limits wants ``redis+unix://`` for a socket (the embedded Redis of `make run`).
    return "redis+" + redis_url if redis_url.startswith("unix://") else redis_url


class KeyThrottle:
    """At most ``attempts`` refused keys per client address in ``window_minutes``.

    Only refusals of the key itself count (malformed, unknown, revoked): a request without
    a key or with a valid key lacking the scope does not.

    Args:
        redis_url: the Redis the counters live in.
        attempts: refusals allowed per address in the window; the next request is answered 429.
        window_minutes: the moving window.
        key_prefix: settings.stores.key_prefix (keys: ``<prefix>:apikey:...``).
    """

    def __init__(self, redis_url: str, attempts: int = 20, window_minutes: int = 15, key_prefix: str = "bb") -> None:
        if attempts < 1 or window_minutes < 1:
            raise ValueError(f"attempts ({attempts}) and window_minutes ({window_minutes}) must be at least 1")
        self._storage = RedisStorage(_limits_uri(redis_url), key_prefix=f"{key_prefix}:apikey", wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = RateLimitItemPerMinute(attempts, window_minutes)
        self.attempts = attempts
        self.window_minutes = window_minutes

    def blocked(self, address: str) -> int | None:
        """Seconds to wait when ``address`` used up its refusals, else None.

        Raises:
            StoreUnavailable: Redis does not answer.
        """
        try:
            if self._limiter.test(self._item, "addr", address):
                return None
            stats = self._limiter.get_window_stats(self._item, "addr", address)
        except StorageError as exc:
            raise StoreUnavailable(f"the API key throttle cannot reach Redis: {exc}") from exc
        return max(1, int(stats.reset_time - time.time()) + 1)

    def failed(self, address: str) -> None:
        """Count a refused key against ``address``.

        Raises:
            StoreUnavailable: Redis does not answer.
        """
        try:
            self._limiter.hit(self._item, "addr", address)
        except StorageError as exc:
            raise StoreUnavailable(f"the API key throttle cannot reach Redis: {exc}") from exc

"""Failed sign-ins counted on Redis (the ``limits`` library): per address and per account."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from ..errors import StoreUnavailable

__all__ = ["WINDOW_MINUTES", "Blocked", "LoginThrottle"]

#: failed sign-ins are counted over this moving window.
WINDOW_MINUTES = 15


@dataclass(frozen=True)
class Blocked:
    """Why a sign-in is refused before the password is even checked."""

    reason: str
    retry_after: int  # seconds


def _limits_uri(redis_url: str) -> str:
    # limits wants ``redis+unix://`` for a socket (the embedded Redis of `make run`).
    return "redis+" + redis_url if redis_url.startswith("unix://") else redis_url


class LoginThrottle:
    """At most ``attempts`` failed sign-ins per address and per account in 15 minutes.

    Only failures count; a success clears the account's count (not the address's).

    Args:
        redis_url: the Redis the counters live in.
        attempts: settings.console.login_attempts.
        key_prefix: settings.stores.key_prefix (keys: ``<prefix>:login:...``).
    """

    def __init__(self, redis_url: str, attempts: int, key_prefix: str = "bb") -> None:
        self._storage = RedisStorage(_limits_uri(redis_url), key_prefix=f"{key_prefix}:login", wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = RateLimitItemPerMinute(attempts, WINDOW_MINUTES)
        self.attempts = attempts

    def blocked(self, address: str, email: str) -> Blocked | None:
        """A reason to refuse this attempt now, or None."""
        checks = (("addr", address, "from your address"), ("email", email.strip().lower(), "for this account"))
        try:
            for kind, value, where in checks:
                if not self._limiter.test(self._item, kind, value):
                    stats = self._limiter.get_window_stats(self._item, kind, value)
                    wait = max(1, int(stats.reset_time - time.time()) + 1)
                    minutes = max(1, (wait + 59) // 60)
                    return Blocked(
                        reason=f"Too many failed sign-ins {where} ({self.attempts} in {WINDOW_MINUTES} minutes). "
                        f"Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                        retry_after=wait,
                    )
        except StorageError as exc:
            raise StoreUnavailable(f"the sign-in throttle cannot reach Redis: {exc}") from exc
        return None

    def failed(self, address: str, email: str) -> None:
        """Count a failed attempt against the address and the account."""
        try:
            self._limiter.hit(self._item, "addr", address)
            self._limiter.hit(self._item, "email", email.strip().lower())
        except StorageError as exc:
            raise StoreUnavailable(f"the sign-in throttle cannot reach Redis: {exc}") from exc

    def succeeded(self, email: str) -> None:
        """Forget the account's failures (the address keeps its count)."""
        try:
            self._limiter.clear(self._item, "email", email.strip().lower())
        except StorageError as exc:
            raise StoreUnavailable(f"the sign-in throttle cannot reach Redis: {exc}") from exc

"""A clock a test moves by hand (aware UTC datetimes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["SettableClock"]


class SettableClock:
    """Returns ``now``; set it or :meth:`advance` it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

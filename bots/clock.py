"""Time as the stores keep it: aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

__all__ = ["utcnow", "aware"]


def utcnow() -> datetime:
    """Now, aware, in UTC (the default clock of the stores and services)."""
    return datetime.now(UTC)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """A naive datetime (SQLite gives them back) as UTC; aware ones unchanged."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)

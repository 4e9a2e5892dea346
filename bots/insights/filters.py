"""What an insights report is about: a period of whole UTC days and optional narrowing filters.

The same :class:`Filters` comes from a URL query (the dashboard: :meth:`Filters.from_query`),
from the command line (``brandbot report``) and goes back to a URL (:meth:`Filters.to_query`),
so a page, an export and a report for one selection always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["Filters", "DEFAULT_DAYS", "MAX_DAYS"]

#: the period when none is given: the last 30 days, today included.
DEFAULT_DAYS = 30
#: the longest period accepted (a report over years is a different tool).
MAX_DAYS = 366

_TEXT_MAX = 100


def _today() -> date:
    return datetime.now(UTC).date()


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > _TEXT_MAX or not text.isprintable():
        raise ValueError(f"{name}: at most {_TEXT_MAX} printable characters")
    return text


@dataclass(frozen=True)
class Filters:
    """A period (``start`` to ``end``, both included, UTC days) and optional filters.

    Which figures each filter narrows (see :mod:`bots.insights.summary`):

    - ``channel``: everything;
    - ``language``: conversations (their language) and feedback signals (their language);
    - ``intent`` and ``flow``: the message figures (message signals, top intents, drivers,
      fallbacks); a flow is started by the intent of the same name, so ``flow`` matches that intent;
    - ``agent``: the conversations assigned to that staff member (signals carry no conversation).
    """

    start: date
    end: date
    channel: str | None = None
    language: str | None = None
    intent: str | None = None
    flow: str | None = None
    agent: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"to: {self.end.isoformat()} is before from {self.start.isoformat()}")
        if self.days > MAX_DAYS:
            raise ValueError(f"from: the period is {self.days} days, at most {MAX_DAYS}")

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """The period's first instant (UTC midnight of ``start``)."""
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The instant just after the period (UTC midnight after ``end``), exclusive."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    @property
    def message_intent(self) -> str | None:
        """The intent the message figures are narrowed to (``intent``, else ``flow``)."""
        return self.intent or self.flow

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, today: date | None = None) -> Filters:
        """The last ``days`` days, ``today`` included."""
        end = today or _today()
        return cls(end - timedelta(days=days - 1), end)

    @classmethod
    def from_query(cls, query: Mapping[str, str], today: Callable[[], date] = _today) -> Filters:
        """Filters from URL query parameters ``from``, ``to``, ``channel``, ``language``, ``intent``,
        ``flow``, ``agent``; the period defaults to the last 30 days (ending ``to`` if only it is given).

        Raises:
            ValueError: a parameter is malformed; the message starts with its name.
        """
        raw_from, raw_to = (query.get("from") or "").strip(), (query.get("to") or "").strip()
        end = _day(raw_to, "to") if raw_to else today()
        start = _day(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS - 1)
        if not raw_to and raw_from and start > end:
            end = start
        raw_agent = (query.get("agent") or "").strip()
        agent: int | None = None
        if raw_agent:
            if not (raw_agent.isascii() and raw_agent.isdigit()) or len(raw_agent) > 9:
                raise ValueError(f"agent: {raw_agent[:20]!r} is not a staff id")
            agent = int(raw_agent)
        return cls(
            start,
            end,
            channel=_text(query.get("channel"), "channel"),
            language=_text(query.get("language"), "language"),
            intent=_text(query.get("intent"), "intent"),
            flow=_text(query.get("flow"), "flow"),
            agent=agent,
        )

    def to_query(self) -> dict[str, str]:
        """The URL query naming these filters (only those set); ``from_query`` reads it back."""
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in ("channel", "language", "intent", "flow"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.agent is not None:
            out["agent"] = str(self.agent)
        return out

    def previous(self) -> Filters:
        """The period of the same length just before this one, same filters."""
        length = timedelta(days=self.days)
        return replace(self, start=self.start - length, end=self.end - length)

    @classmethod
    def last_full_week(cls, today: date | None = None) -> Filters:
        """The last whole Monday-to-Sunday week before ``today``'s week."""
        day = today or _today()
        monday = day - timedelta(days=day.weekday() + 7)
        return cls(monday, monday + timedelta(days=6))

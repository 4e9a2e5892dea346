"""Settings of the staff side: when and how a conversation goes to a person, and the console.

``handoff`` says which triggers hand a conversation over, the business hours in
which staff answer, and how long a customer waits before the bot takes them back.
``console`` holds the staff console's sign-in rules and canned replies.
"""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from ._base import Section

__all__ = ["DAYS", "HandoffTriggers", "HandoffSettings", "CannedReply", "ConsoleSettings", "parse_span"]

#: keys of ``handoff.business_hours``, Monday first (``datetime.weekday()`` order).
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _default_hours() -> dict[str, tuple[str, ...]]:
    """Monday to Friday 08:00-20:00, Saturday 09:00-17:00."""
    weekdays: dict[str, tuple[str, ...]] = {d: ("08:00-20:00",) for d in DAYS[:5]}
    return weekdays | {"sat": ("09:00-17:00",)}


def parse_span(span: str) -> tuple[time, time | None]:
    """``"08:00-20:00"`` -> (08:00, 20:00); an end of ``24:00`` is None (until midnight).

    Raises:
        ValueError: not ``HH:MM-HH:MM`` with the start before the end.
    """
    m = _SPAN.match(span.strip())
    if not m:
        raise ValueError(f"{span!r} is not a span like '08:00-20:00'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 == 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{span!r}: hours run 00:00 to 24:00")
    start = time(h1, m1)
    end = None if h2 == 24 else time(h2, m2)
    if end is not None and end <= start:
        raise ValueError(f"{span!r}: the start must be before the end (spans do not cross midnight; split them)")
    return start, end


class HandoffTriggers(Section):
    """What hands a conversation to a person (each can be switched off)."""

    #: the customer asks for a person (the ``human_handoff`` intent, any language).
    human_request: bool = True
    #: consecutive messages the bot did not understand before it offers a person (0: never).
    misses: int = Field(default=2, ge=0, le=20)
    #: offer a person when the average sentiment of the customer's last
    #: ``negative_messages`` messages is at or below ``negative_threshold`` (0 messages: off).
    negative_messages: int = Field(default=3, ge=0, le=20)
    negative_threshold: float = Field(default=-0.5, ge=-1.0, le=0.0)
    #: intents that offer a person at once (a complaint, a cancellation).
    intents: tuple[str, ...] = ("complaint",)
    #: flows and actions may ask for a person (``ActionResult(handoff=...)``).
    from_actions: bool = True


class HandoffSettings(Section):
    """Handing a conversation over to staff."""

    triggers: HandoffTriggers = Field(default_factory=HandoffTriggers)
    #: IANA zone of the business hours (default: brand.timezone).
    timezone: str | None = None
    #: day -> spans "HH:MM-HH:MM"; a day left out is closed.
    business_hours: dict[str, tuple[str, ...]] = Field(default_factory=_default_hours)
    #: with nobody signed in to the console, a handoff is treated as outside hours.
    require_agent_online: bool = True
    #: a customer waiting longer than this goes back to the bot with an apology.
    max_wait_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    #: minutes an agent needs per waiting customer, for the expected wait shown.
    minutes_per_customer: float = Field(default=4.0, gt=0, le=240)
    #: seconds a console tab counts as "signed in" after its last heartbeat.
    presence_seconds: int = Field(default=90, ge=10, le=3600)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris')") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, spans in value.items():
            if day not in DAYS:
                raise ValueError(f"{day!r} is not a day; use {', '.join(DAYS)}")
            for span in spans:
                parse_span(span)
        return value


class CannedReply(Section):
    """A reply an agent inserts by typing ``/shortcut``."""

    shortcut: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    title: str = Field(min_length=1, max_length=80)
    #: text per language; {name} is not interpolated (what you see is what is sent).
    text: dict[str, str] = Field(min_length=1)
    #: intents this reply suits (ranks it first in the agent's suggestions).
    intents: tuple[str, ...] = ()


class ConsoleSettings(Section):
    """The staff console and the staff API."""

    #: a signed-in session lasts this long without activity.
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    #: failed sign-ins allowed per address and per account in 15 minutes.
    login_attempts: int = Field(default=10, ge=1, le=1000)
    #: send session cookies only over HTTPS; unset: yes in production, no in development
    #: (so the console works on http://127.0.0.1 out of the box).
    secure_cookies: bool | None = None
    canned_replies: tuple[CannedReply, ...] = ()

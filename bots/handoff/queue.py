"""The waiting queue and whether staff can take a customer now.

:class:`Availability` is plain data the dialogue engine reads when a customer is to be
handed over (staffed: told their place and the expected wait; not staffed: told when
staff are back). :func:`availability` builds it at the edge from the business hours,
:class:`~bots.handoff.presence.Presence` and the ``conversations`` table; the runtime
calls it only on the turns that may hand over, so a plain bot turn stays cheap.

A conversation is in the queue while its mode is ``waiting`` (oldest ``waiting_since``
first). A message left for staff outside hours sets ``waiting_since`` while the mode
stays ``bot``: it shows in the staff inbox's waiting list (``waiting_since IS NOT NULL``)
but is not counted in the live queue and never times out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreUnavailable
from ..stores.models import conversations
from .hours import BusinessHours, hours_from_settings
from .presence import Presence

__all__ = ["Availability", "STAFFED", "availability", "position", "waiting_count", "describe_wait"]


@dataclass(frozen=True)
class Availability:
    """Whether a handoff can go to a person now, and what to tell the customer.

    Attributes:
        open_now: within business hours.
        agents_online: staff signed in to the console (0 when closed: not looked up).
        position: the customer's place in the queue if handed over now (1 = next).
        expected_wait_minutes: position * handoff.minutes_per_customer.
        back_at: when staff are next available (business time zone); None when open
            (or no hours at all).
        staffed: a handoff goes to the queue (open, and someone online when
            ``handoff.require_agent_online``).
        now: the time of the reckoning, in the business time zone ("today"/"tomorrow").
    """

    open_now: bool = True
    agents_online: int = 1
    position: int = 1
    expected_wait_minutes: float = 4.0
    back_at: datetime | None = None
    staffed: bool = True
    now: datetime | None = None


#: the engine's default: staffed, next in line.
STAFFED = Availability()


def waiting_count(engine: Engine) -> int:
    """Conversations in mode ``waiting``."""
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(conversations).where(conversations.c.mode == "waiting")
                ).scalar_one()
            )
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot count the waiting conversations: {exc}") from exc


def position(engine: Engine, conversation_id: str) -> int:
    """1-based place of ``conversation_id`` among the waiting ones, oldest first; 0 if not waiting."""
    c = conversations.c
    try:
        with engine.connect() as conn:
            mine = conn.execute(
                select(c.waiting_since).where(and_(c.id == conversation_id, c.mode == "waiting"))
            ).scalar_one_or_none()
            if mine is None:
                return 0
            ahead = conn.execute(
                select(func.count())
                .select_from(conversations)
                .where(
                    and_(
                        c.mode == "waiting",
                        c.id != conversation_id,
                        (c.waiting_since < mine) | (and_(c.waiting_since == mine, c.id < conversation_id)),
                    )
                )
            ).scalar_one()
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"cannot read the queue position of {conversation_id!r}: {exc}") from exc
    return int(ahead) + 1


def availability(
    settings: Any, presence: Presence, engine: Engine, now: datetime, hours: BusinessHours | None = None
) -> Availability:
    """Can a customer be handed over at ``now``? (Redis: one ZCOUNT when open; SQL: one COUNT when staffed.)

    Raises:
        StoreUnavailable: SQL failed. Redis errors propagate (the turn is retried).
    """
    h = settings.handoff
    hours = hours or hours_from_settings(settings)
    local = now.astimezone(hours.zone)
    open_now = hours.is_open(now)
    agents = presence.online() if open_now else 0
    staffed = open_now and (agents > 0 or not h.require_agent_online)
    if not staffed:
        back = None if open_now else hours.next_open(now)
        return Availability(open_now, agents, 0, 0.0, back, False, local)
    pos = waiting_count(engine) + 1
    return Availability(True, agents, pos, pos * h.minutes_per_customer, None, True, local)


def describe_wait(minutes: float, language: str) -> str:
    """An expected wait in words, rounded as people say it: "about 4 minutes", "about 15
    minutes", "about an hour and a half" (fr: "environ 4 minutes", ...)."""
    fr = language == "fr"
    m = max(1, math.ceil(minutes))
    if m <= 1:
        return "environ une minute" if fr else "about a minute"
    if m < 10:
        return f"environ {m} minutes" if fr else f"about {m} minutes"
    if m < 55:
        m = 5 * round(m / 5)
        return f"environ {m} minutes" if fr else f"about {m} minutes"
    halves = max(2, round(m / 30))
    whole, half = divmod(halves, 2)
    if fr:
        unit = "une heure" if whole == 1 else f"{whole} heures"
        return f"environ {unit}" + (" et demie" if half else "")
    if whole == 1:
        return "about an hour and a half" if half else "about an hour"
    return f"about {whole}{' and a half' if half else ''} hours"

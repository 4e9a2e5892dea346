"""Business hours: when staff answer, and how to tell a customer when they are back. Pure.

``BusinessHours({"mon": ["08:00-20:00"], ...}, "Europe/Paris")`` reads the spans of
``handoff.business_hours`` (a day left out is closed; ``24:00`` ends at midnight) in
one time zone. :func:`describe_back` words "when staff are back" in the customer's
language ("tomorrow at 08:00", "demain à 8h00").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..calendar_words import MONTHS, WEEKDAYS, words_for
from ..settings.handoff import DAYS, parse_span

__all__ = ["BusinessHours", "describe_back", "hours_from_settings"]


class BusinessHours:
    """Opening spans per weekday in one time zone.

    Args:
        spec: day ("mon".."sun") -> spans like "08:00-20:00" (validated by the settings).
        zone: an IANA name or a ZoneInfo.

    Raises:
        ValueError: an unknown day or a malformed span.
    """

    def __init__(self, spec: Mapping[str, Sequence[str]], zone: str | ZoneInfo) -> None:
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.spans: dict[int, list[tuple[time, time | None]]] = {}
        for day, spans in spec.items():
            if day not in DAYS:
                raise ValueError(f"{day!r} is not a day; use {', '.join(DAYS)}")
            self.spans[DAYS.index(day)] = sorted(parse_span(s) for s in spans)

    def is_open(self, now: datetime) -> bool:
        """True when ``now`` (aware) falls in a span."""
        local = now.astimezone(self.zone)
        t = local.time().replace(tzinfo=None)
        return any(start <= t and (end is None or t < end) for start, end in self.spans.get(local.weekday(), ()))

    def next_open(self, now: datetime) -> datetime | None:
        """The first moment at or after ``now`` when staff answer (``now`` itself when open),
        in the business time zone; None when no day has hours."""
        local = now.astimezone(self.zone)
        if self.is_open(now):
            return local
        utc_now = now.astimezone(UTC)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.spans.get(day.weekday(), ()):
                candidate = datetime.combine(day, start, tzinfo=self.zone)
                if candidate.astimezone(UTC) > utc_now:
                    return candidate
        return None


def hours_from_settings(settings: Any) -> BusinessHours:
    """The deployment's hours: ``handoff.business_hours`` in ``handoff.timezone`` (else ``brand.timezone``)."""
    h = settings.handoff
    return BusinessHours(h.business_hours, h.timezone or settings.brand.timezone)


#: how each language says when staff are back ({hm}: the time, {day}: a weekday, {date}: day and month).
_BACK_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "soon": "soon",
        "today": "today at {hm}",
        "tomorrow": "tomorrow at {hm}",
        "weekday": "on {day} at {hm}",
        "date": "on {date} at {hm}",
        "hm": "{h:02d}:{m:02d}",
    },
    "fr": {
        "soon": "bientôt",
        "today": "aujourd'hui à {hm}",
        "tomorrow": "demain à {hm}",
        "weekday": "{day} à {hm}",
        "date": "le {date} à {hm}",
        "hm": "{h}h{m:02d}",
    },
}


def describe_back(back: datetime | None, now: datetime | None, language: str) -> str:
    """When staff are back, in words: "today at 14:00", "tomorrow at 08:00", "on Monday at
    09:00", "on 3 March at 08:00" (fr: "aujourd'hui à 14h00", "demain à 8h00", "lundi à 9h00",
    "le 3 mars à 8h00"); ``back`` None (open, but nobody signed in): "soon" / "bientôt".
    Languages other than fr are worded in English."""
    lang = words_for(language)
    words = _BACK_PHRASES[lang]
    if back is None:
        return words["soon"]
    local_now = (now or back).astimezone(back.tzinfo)
    days = (back.date() - local_now.date()).days
    kind = "today" if days <= 0 else "tomorrow" if days == 1 else "weekday" if days < 7 else "date"
    return words[kind].format(
        hm=words["hm"].format(h=back.hour, m=back.minute),
        day=WEEKDAYS[lang][back.weekday()],
        date=f"{back.day} {MONTHS[lang][back.month - 1]}",
    )

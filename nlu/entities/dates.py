"""Dates and times, resolved against the conversation's clock and time zone.

A cheap regex finds candidate spans ("tomorrow", "le 3 mars", "03/12", "next monday",
"14h30", "2pm"); only those spans go to dateparser (slow, so never on whole
messages), through one parser per (language, date order, day) in each thread, with no lock:
dateparser is thread-safe since 1.4.3 (tests/nlu/test_entities.py parses from 8 threads).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # at run time dateparser is imported by _parser, when the first date is parsed
    from dateparser.date import DateDataParser

__all__ = ["find_times", "find_dates", "local_now"]

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|"
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre|"
    "janv|f[ée]vr|avr|juil|d[ée]c"
)
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
)
_DATE_RE = re.compile(
    r"(?<![\w/-])(?:"
    r"\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|\d{1,2}\.\d{1,2}\.\d{2,4}"
    r"|(?:the\s+)?day\s+after\s+tomorrow|apr[eè]s[- ]demain|avant[- ]hier"
    r"|today|tonight|tomorrow|yesterday|aujourd'hui|aujourd’hui|ce\s+soir|demain|hier"
    r"|heute|morgen|[üu]bermorgen|gestern|vandaag|overmorgen|gisteren|hoy|ma[ñn]ana|ayer|oggi|domani|ieri"
    r"|(?:(?:next|this|on|coming)\s+)?(?:" + _WEEKDAYS + r")(?:\s+(?:prochain|prochaine|qui\s+vient))?"
    r"(?:\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th|er)?(?:\s+(?:of\s+)?(?:" + _MONTHS + r")\.?)?)?"
    r"|(?:the\s+)?\d{1,2}(?:st|nd|rd|th|er)?\s+(?:of\s+)?(?:" + _MONTHS + r")\.?(?:\s+\d{4})?"
    r"|(?:" + _MONTHS + r")\.?\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|in\s+\d{1,2}\s+(?:days?|weeks?)|dans\s+\d{1,2}\s+(?:jours?|semaines?)"
    r"|next\s+week|la\s+semaine\s+prochaine|semaine\s+prochaine"
    r"|(?:the\s+)\d{1,2}(?:st|nd|rd|th)"
    r")(?![\w/])",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    r"(?<![\w:/.])(?:"
    r"(?P<h1>[01]?\d|2[0-3])\s?[:h]\s?(?P<m1>[0-5]\d)(?!\d)(?:\s?(?P<ap1>am|pm|a\.m\.|p\.m\.))?"
    r"|(?P<h2>1[0-2]|0?[1-9])\s?(?P<ap2>am|pm|a\.m\.|p\.m\.)"
    r"|(?P<h3>[01]?\d|2[0-3])\s?h(?![\w])"
    r"|(?P<noon>noon|midday|midi)|(?P<midnight>midnight|minuit)"
    r")(?![\w])",
    re.IGNORECASE,
)
_WEEKDAY_ONLY = re.compile(r"(?:next|this|on|coming)\s+|\s+(?:prochain|prochaine|qui\s+vient)", re.IGNORECASE)
_EVENING = re.compile(r"^(?:tonight|ce\s+soir)$", re.IGNORECASE)
_HAS_MONTH = re.compile(r"/|\.\d|-\d|" + _MONTHS, re.IGNORECASE)
_HAS_YEAR = re.compile(r"\d{4}|/\d{2}$")
#: each worker thread keeps its own parsers: dateparser (>= 1.4.3) is thread-safe, and a parser
#: per thread keeps even its own small per-instance state (previous locales) unshared.
_PER_THREAD = threading.local()


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}: use an IANA name such as 'Europe/Paris' or 'UTC'") from exc


def local_now(now: datetime, tz: str) -> datetime:
    """``now`` as a naive local datetime in time zone ``tz``."""
    zone = _zone(tz)
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    return now.astimezone(zone).replace(tzinfo=None)


def find_times(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, "HH:MM") for each time in ``text``."""
    for m in _TIME_RE.finditer(text):
        g = m.groupdict()
        if g["noon"]:
            h, mi = 12, 0
        elif g["midnight"]:
            h, mi = 0, 0
        elif g["h1"] is not None:
            h, mi = int(g["h1"]), int(g["m1"])
            ap = g["ap1"]
            if ap:
                h = _ampm(h, ap)
        elif g["h2"] is not None:
            h, mi = _ampm(int(g["h2"]), g["ap2"]), 0
        else:
            h, mi = int(g["h3"]), 0
        yield m.start(), m.end(), f"{h:02d}:{mi:02d}"


def _ampm(h: int, ap: str) -> int:
    pm = ap.lower().startswith("p")
    if pm and h < 12:
        return h + 12
    if not pm and h == 12:
        return 0
    return h


def _parser(language: str, date_order: str, base: datetime) -> DateDataParser:
    """This thread's ``DateDataParser`` for (language, date order, base), made once per thread."""
    parsers: dict[tuple[str, str, datetime], DateDataParser] | None = getattr(_PER_THREAD, "parsers", None)
    if parsers is None:
        parsers = _PER_THREAD.parsers = {}
    key = (language, date_order, base)
    parser = parsers.get(key)
    if parser is None:
        from dateparser.date import DateDataParser

        if len(parsers) >= 64:  # a long-running worker crosses days: forget the oldest
            del parsers[next(iter(parsers))]
        parser = parsers[key] = DateDataParser(
            languages=[language],
            settings={
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "future",
                "DATE_ORDER": date_order,
                "PREFER_DAY_OF_MONTH": "first",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    return parser


def _parse_span(span: str, language: str, date_order: str, base: datetime) -> date | None:
    return _parse_cached(" ".join(span.lower().split()), language, date_order, base.date())


@lru_cache(maxsize=8192)
def _parse_cached(span: str, language: str, date_order: str, today: date) -> date | None:
    """Dates only depend on the local day: cached per (span, language, order, day)."""
    base = datetime.combine(today, time(12, 0))
    if _EVENING.match(span):
        return today
    parser = _parser(language, date_order, base)
    got = parser.get_date_data(span).date_obj
    if got is None and _WEEKDAY_ONLY.search(span):
        # "lundi prochain", "next monday": the weekday alone, in the future
        got = parser.get_date_data(_WEEKDAY_ONLY.sub(" ", span).strip()).date_obj
    if got is None:
        return None
    d = got.date()
    if d < today and not _HAS_YEAR.search(span) and not re.search(r"yesterday|hier", span, re.IGNORECASE):
        if _HAS_MONTH.search(span):
            try:
                d = d.replace(year=d.year + 1)
            except ValueError:
                return None
        else:  # "the 5th" after the 5th: next month
            month = d.month % 12 + 1
            year = d.year + (1 if month == 1 else 0)
            try:
                d = d.replace(year=year, month=month)
            except ValueError:
                return None
    return d


def find_dates(text: str, language: str, date_order: str, base: datetime) -> Iterator[tuple[int, int, str]]:
    """(start, end, "YYYY-MM-DD") for each date in ``text``; ``base`` is the local now (naive)."""
    for m in _DATE_RE.finditer(text):
        span = m.group(0)
        d = _parse_span(span, language, date_order, base)
        if d is not None:
            yield m.start(), m.end(), d.isoformat()

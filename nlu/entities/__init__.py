"""Entity extraction: regexes for the structured values, dateparser for dates.

:class:`EntityExtractor` is pure: ``extract(text, now, timezone)`` returns a list
of :class:`nlu.result.Entity`, overlaps resolved (earlier-listed types win, then
the longer span). Values are normalised: ``"kl 1234" -> "KL1234"``,
``"seat 14 c" -> "14C"``, dates ISO, times ``HH:MM``, phones ``+<digits>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..result import Entity
from .airports import AIRPORTS, AMBIGUOUS_CITY_NAMES
from .dates import _zone, find_dates, find_times, local_now

__all__ = ["EntityExtractor", "ENTITY_TYPES", "KNOWN_CARRIERS"]

ENTITY_TYPES = (
    "email",
    "phone",
    "amount",
    "flight_number",
    "booking_ref",
    "seat",
    "datetime",
    "date",
    "time",
    "airport",
)

#: airline codes accepted even when written in lower case or with a space ("kl 1234").
#: Codes that are also common short words (AT, TO, DE, LA, AS, OK, NO...) are left out.
KNOWN_CARRIERS = frozenset(
    "NM KL AF BA LH U2 FR DL AA UA IB AZ SN LX OS SK TP EK QR VY HV W6 EI AY LO TK EY AC UX A3 "
    "TX SS ZI XK BE LS".split()
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d .\-()]{6,}\d(?!\w)")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUM = r"\d+(?:[.,]\d{1,2})?"
_CUR_WORDS = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "livre": "GBP",
    "livres": "GBP",
    "chf": "CHF",
    "francs suisses": "CHF",
}
_AMOUNT = re.compile(
    r"(?<![\w.,])(?:(?P<sym>[€$£])\s?(?P<n1>" + _NUM + r")"
    r"|(?P<code>eur|usd|gbp|chf)\s?(?P<n3>" + _NUM + r")"
    r"|(?P<n2>" + _NUM + r")\s?(?P<cur>€|\$|£|eur|euros?|usd|dollars?|gbp|pounds?|livres?|chf|francs suisses)"
    r")(?![\w])",
    re.IGNORECASE,
)
_FLIGHT = re.compile(r"(?<![\w-])(?P<code>[A-Za-z]{2}|[A-Za-z]\d|\d[A-Za-z])(?P<sep>[ \-]?)(?P<num>\d{1,4})(?![\w])")
_BOOKING = re.compile(r"(?<![\w-])(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6}(?![\w-])")
_SEAT = re.compile(
    r"(?<![\w])(?:(?P<kw>seats?|si[eè]ges?|places?)\s*(?:n[o°º]\.?\s*)?)?(?P<row>\d{1,2})(?P<sp>\s?)(?P<letter>[A-Za-z])(?![\w])",
    re.IGNORECASE,
)
_PREP = r"(?:to|from|in|at|for|via|into|à|de|d'|pour|vers|depuis|sur|au départ de|arrivée à)"
_TOKEN_ALL_CAPS = re.compile(r"[a-z]")
_DIGIT = re.compile(r"\d")


class EntityExtractor:
    """Finds entities in one message.

    Args:
        language: the pipeline's language (dates are parsed in it).
        date_order: "DMY" or "MDY" for numeric dates like 03/12.
        phone_country_code: digits used for national numbers starting with 0 ("33").
        extra_airports: more IATA code -> city names.
    """

    def __init__(
        self,
        language: str,
        date_order: str = "DMY",
        phone_country_code: str = "",
        extra_airports: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.language = language
        self.date_order = date_order
        self.phone_country_code = phone_country_code.lstrip("+")
        table: dict[str, tuple[str, ...]] = dict(AIRPORTS)
        for code, names in (extra_airports or {}).items():
            table[code.upper()] = tuple(table.get(code.upper(), ())) + tuple(n.lower() for n in names)
        self.codes = frozenset(table)
        self.city_to_code = {name: code for code, names in table.items() for name in names}
        names = sorted(self.city_to_code, key=len, reverse=True)
        alt = "|".join(re.escape(n) for n in names)
        self._city = re.compile(r"(?<![\w-])(?P<name>" + alt + r")(?![\w-])", re.IGNORECASE)
        self._prep_before = re.compile(_PREP + r"\s+$", re.IGNORECASE)
        self._code = re.compile(r"(?<![\w-])(?:" + "|".join(sorted(self.codes)) + r")(?![\w-])")

    # ------------------------------------------------------------------------------
    def extract(self, text: str, now: datetime | None = None, timezone: str = "UTC") -> list[Entity]:
        """All entities of ``text``; dates resolved against ``now`` in ``timezone``."""
        cands: list[tuple[int, int, int, str, Any]] = []  # (priority, start, end, type, value)

        def add(kind: str, start: int, end: int, value: Any) -> None:
            cands.append((ENTITY_TYPES.index(kind), start, end, kind, value))

        has_digit = _DIGIT.search(text) is not None
        if "@" in text:
            for m in _EMAIL.finditer(text):
                add("email", m.start(), m.end(), m.group(0).lower())
        if has_digit:
            self._numbers(text, add)
        self._dates(text, now, timezone, has_digit, add)
        self._airports(text, add)
        return self._resolve(text, cands)

    # ------------------------------------------------------------------------------
    def _numbers(self, text: str, add: Any) -> None:
        for m in _PHONE.finditer(text):
            raw = m.group(0).strip()
            digits = re.sub(r"\D", "", raw)
            if not 9 <= len(digits) <= 15 or _ISO_DATE.match(raw):
                continue
            if raw.startswith("+"):
                value = "+" + digits
            elif raw.startswith("00"):
                value = "+" + digits[2:]
            elif digits.startswith("0") and self.phone_country_code:
                value = "+" + self.phone_country_code + digits[1:]
            else:
                value = digits
            add("phone", m.start(), m.start() + len(raw), value)
        for m in _AMOUNT.finditer(text):
            g = m.groupdict()
            num = g["n1"] or g["n2"] or g["n3"]
            cur = (g["sym"] or g["cur"] or g["code"] or "").lower()
            add(
                "amount",
                m.start(),
                m.end(),
                {"amount": float(num.replace(",", ".")), "currency": _CUR_WORDS.get(cur, cur.upper())},
            )
        for m in _FLIGHT.finditer(text):
            code, sep = m.group("code"), m.group("sep")
            up = code.upper()
            if up in KNOWN_CARRIERS or (code.isupper() and code.isalpha() and not sep and len(m.group("num")) >= 3):
                add("flight_number", m.start(), m.end(), up + m.group("num"))
        for m in _BOOKING.finditer(text):
            add("booking_ref", m.start(), m.end(), m.group(0).upper())
        for m in _SEAT.finditer(text):
            letter = m.group("letter")
            if not m.group("kw") and letter.upper() > "K":
                continue  # "3 x", "12 m": a seat letter past K only after "seat" (then the flow says it does not exist)
            if not m.group("kw"):
                whole = m.group(0) == text.strip()  # "15 c" as a whole answer is a seat
                if m.group("sp") and not letter.isupper() and not whole:
                    continue
                if letter in "hH" or (m.group("sp") and letter in "aA"):
                    continue  # "14h" is a time; "2 a" is not a seat
            start = m.start() if not m.group("kw") else m.start("row")
            add("seat", start, m.end(), f"{int(m.group('row'))}{letter.upper()}")

    def _dates(self, text: str, now: datetime | None, tz: str, has_digit: bool, add: Any) -> None:
        low = text.lower()
        times = list(find_times(text)) if (has_digit or "mid" in low or "minuit" in low or "noon" in low) else []
        base_aware = now or datetime.now(UTC)
        base = local_now(base_aware, tz)
        dates = list(find_dates(text, self.language, self.date_order, base))
        for s, e, v in times:
            add("time", s, e, v)
        for s, e, v in dates:
            add("date", s, e, v)
        if dates and times:
            (ds, de, dv), (ts, te, tv) = dates[0], times[0]
            local = datetime.fromisoformat(f"{dv}T{tv}").replace(tzinfo=_zone(tz))
            add("datetime", min(ds, ts), max(de, te), local.isoformat())

    def _airports(self, text: str, add: Any) -> None:
        shouting = not _TOKEN_ALL_CAPS.search(text)
        for m in self._code.finditer(text):
            if shouting and not self._prep_before.search(text[: m.start()]):
                continue
            add("airport", m.start(), m.end(), m.group(0))
        for m in self._city.finditer(text):
            name = m.group("name").lower()
            if name in AMBIGUOUS_CITY_NAMES and not self._prep_before.search(text[: m.start()]):
                continue
            add("airport", m.start(), m.end(), self.city_to_code[name])

    @staticmethod
    def _resolve(text: str, cands: list[tuple[int, int, int, str, Any]]) -> list[Entity]:
        # datetime spans legitimately cover their date and time: keep all three.
        cands.sort(key=lambda c: (c[0], -(c[2] - c[1]), c[1]))
        kept: list[tuple[int, int, int, str, Any]] = []
        for c in cands:
            _pr, s, e, kind, _v = c
            clash = False
            for k in kept:
                if s < k[2] and k[1] < e:
                    pair = {kind, k[3]}
                    if (kind in ("date", "time") and k[3] == "datetime") or pair <= {"date", "time", "datetime"}:
                        continue
                    clash = True
                    break
            if not clash:
                kept.append(c)
        kept.sort(key=lambda c: (c[1], c[0]))
        return [Entity(kind, v, text[s:e], s, e) for _p, s, e, kind, v in kept]

"""Redaction of personal data in free text kept for analytics (pure functions).

:func:`redact` replaces, in this order, e-mail addresses (``[EMAIL]``), payment card
numbers (``[CARD]``: 13 to 19 digits, spaced or dashed, that pass the Luhn check),
phone numbers (``[PHONE]``: international ``+33 6 12 34 56 78`` / ``0044 20...``, French
``06 12 34 56 78``, British ``07700 900123`` / ``020 7946 0958``, North American
``(415) 555-0100``), booking references (``[BOOKING]``) and names after a cue
(``[NAME]``: "my name is", "je m'appelle", "mon nom est", "I'm <Capitalised>",
Mr/Mrs/Ms/Dr/Mme/Mlle/M./Monsieur/Madame).

Decisions, so the text stays useful for analytics:

- Flight numbers stay: two letters (or a letter and a digit) and 1-4 digits, such as
  ``NM1234`` or ``AF12``, are public schedule data that customers' complaints are about. A
  six-character code of that shape is redacted as a booking reference only after a cue
  ("booking", "reference", "PNR", "réservation", "dossier"...).
- A booking reference without a cue is 6 capitals and digits with at least one of each
  (``X7K9QZ``, ``ABC123``); ordinary words (no digit), prices (``EUR120``), aircraft
  (``A320``), times, dates and amounts stay.
- A card-length digit run that fails the Luhn check is not a card (it may be a phone
  number, handled next, or an order number, kept).

The word lists (cues, words that are not names, currency codes) are data:
``redaction.yml`` next to this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

__all__ = ["redact", "luhn_ok", "TOKENS"]

TOKENS = ("[EMAIL]", "[CARD]", "[PHONE]", "[BOOKING]", "[NAME]")

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_CARD = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,18}(?![\d])")
_PHONES = (
    # international: +33 6 12 34 56 78, +33 (0)6 12..., +44 20 7946 0958, 0033612345678, +1 415-555-0100
    re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?\d){6,13}(?!\d)"),
    # French national: 06 12 34 56 78, 06.12.34.56.78, 0612345678
    re.compile(r"(?<![\w+.,:/-])0[1-9](?:[ .-]?\d{2}){4}(?![\d])"),
    # British national: 07700 900123, 020 7946 0958, 0161 496 0000
    re.compile(r"(?<![\w+.,:/-])0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}(?![\d])"),
    # North American: (415) 555-0100, 415-555-0100, 415.555.0100
    re.compile(r"(?<![\w+.,:/-])(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}(?![\d])"),
)
_CODE6 = re.compile(r"(?<![\w-])[A-Za-z0-9]{6}(?![\w-])")
_FLIGHT = re.compile(r"^(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{1,4}$")
_CAP_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:[-'][A-ZÀ-ÖØ-Þa-zà-öø-ÿ][a-zà-öø-ÿ]+)*"
_ANY_WORD = r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:[-'][A-Za-zÀ-ÖØ-öø-ÿ]+)*"
# a name after an explicit cue: the first word in any case, up to two more if capitalised
_NAME_CUE = re.compile(
    r"(?i:\b(?:my name is|my name's|je m'appelle|je m’appelle|mon nom est|mon nom c'est))\s+"
    rf"({_ANY_WORD}(?:\s+{_CAP_WORD}){{0,2}})"
)
_I_AM = re.compile(rf"\b(?:I'm|I’m|I am|Im)\s+({_CAP_WORD}(?:\s+{_CAP_WORD})?)")
_TITLE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Mme|Mlle|Monsieur|Madame|Mademoiselle)\.?\s+"
    rf"({_CAP_WORD}(?:\s+{_CAP_WORD})?)"
    r"|(?<![\w.])M\.\s*"
    rf"({_CAP_WORD}(?:\s+{_CAP_WORD})?)"
)


@dataclass(frozen=True)
class _Words:
    not_names: frozenset[str]
    currencies: frozenset[str]
    booking_cue: re.Pattern[str]


@cache
def _words() -> _Words:
    data = yaml.safe_load((Path(__file__).with_name("redaction.yml")).read_text(encoding="utf-8"))
    cues = sorted(data["booking_cues"], key=len, reverse=True)
    cue = re.compile(
        r"(?i:\b(?:" + "|".join(re.escape(c) for c in cues) + r"))\s*(?:n°|no\.?|number|numéro|is|est|:|#)?\s*:?\s*$"
    )
    return _Words(frozenset(data["not_names_after_i_am"]), frozenset(data["currency_codes"]), cue)


def luhn_ok(digits: str) -> bool:
    """True if the digit string passes the Luhn check (every payment card number does)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cards(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    return _CARD.sub(sub, text)


def _bookings(text: str) -> str:
    words = _words()

    def sub(m: re.Match[str]) -> str:
        code = m.group(0)
        has_digit = any(c.isdigit() for c in code)
        has_letter = any(c.isalpha() for c in code)
        if not (has_digit and has_letter):
            return code
        after_cue = words.booking_cue.search(text[max(0, m.start() - 40) : m.start()]) is not None
        if after_cue:
            return "[BOOKING]"
        if not code.isupper() or _FLIGHT.match(code) or code[:3] in words.currencies:
            return code
        return "[BOOKING]"

    return _CODE6.sub(sub, text)


def _names(text: str) -> str:
    not_names = _words().not_names

    def cue(m: re.Match[str]) -> str:
        start, end = m.span(1)
        return m.group(0)[: start - m.start()] + "[NAME]" + m.group(0)[end - m.start() :]

    def i_am(m: re.Match[str]) -> str:
        first = m.group(1).split()[0]
        return m.group(0) if first in not_names else cue(m)

    def title(m: re.Match[str]) -> str:
        group = 1 if m.group(1) is not None else 2
        start, end = m.span(group)
        return m.group(0)[: start - m.start()] + "[NAME]" + m.group(0)[end - m.start() :]

    text = _NAME_CUE.sub(cue, text)
    text = _I_AM.sub(i_am, text)
    return _TITLE.sub(title, text)


def redact(text: str) -> str:
    """``text`` with e-mails, card numbers, phone numbers, booking references and cued names
    replaced by ``[EMAIL]``, ``[CARD]``, ``[PHONE]``, ``[BOOKING]`` and ``[NAME]``.

    Pure and deterministic; what is not personal data (times, prices, dates, flight numbers)
    is left as written.
    """
    text = _EMAIL.sub("[EMAIL]", text)
    text = _cards(text)
    for pattern in _PHONES:
        text = pattern.sub("[PHONE]", text)
    text = _bookings(text)
    return _names(text)

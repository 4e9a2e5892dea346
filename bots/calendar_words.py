"""Names of weekdays and months in the languages the demo speaks, for dates said in words.

Python's locale-dependent ``strftime`` would depend on the machine's installed locales; these
are the few words the bot needs. A language not listed here falls back to English.
"""

from __future__ import annotations

__all__ = ["WEEKDAYS", "MONTHS", "words_for"]

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}


def words_for(language: str | None) -> str:
    """The key of ``WEEKDAYS``/``MONTHS`` to use for ``language`` (English when not listed)."""
    return language if language in WEEKDAYS else "en"

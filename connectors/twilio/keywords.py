"""SMS opt-out / opt-in / help keywords, as Twilio defines them, plus configured ones (pure).

The whole message is the keyword: trimmed, case-insensitive. "Stop sending me
offers" is a sentence, not a keyword.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Keyword", "KeywordConfig", "classify_keyword", "TWILIO_OPT_OUT", "TWILIO_OPT_IN", "TWILIO_HELP"]

Keyword = Literal["opt_out", "opt_in", "help"]

TWILIO_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
TWILIO_OPT_IN = ("START", "YES", "UNSTOP")
TWILIO_HELP = ("HELP", "INFO")


def _norm(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in words if w.strip())


@dataclass(frozen=True)
class KeywordConfig:
    """The keywords to recognise: Twilio's defaults plus ``extra`` per language.

    Args:
        extra: ``{"fr": {"opt_out": ["ARRET", "ARRÊT"], "opt_in": ["DEMARRER"], "help": ["AIDE"]}}``.
    """

    opt_out: frozenset[str] = field(default_factory=lambda: _norm(TWILIO_OPT_OUT))
    opt_in: frozenset[str] = field(default_factory=lambda: _norm(TWILIO_OPT_IN))
    help: frozenset[str] = field(default_factory=lambda: _norm(TWILIO_HELP))

    @classmethod
    def with_extra(cls, extra: Mapping[str, Mapping[str, Iterable[str]]] | None = None) -> KeywordConfig:
        """Twilio's keywords plus the configured ones of every language.

        Raises:
            ValueError: a kind other than opt_out / opt_in / help, or a word in two kinds.
        """
        base = cls()
        words: dict[str, set[str]] = {"opt_out": set(base.opt_out), "opt_in": set(base.opt_in), "help": set(base.help)}
        for lang, kinds in (extra or {}).items():
            for kind, listed in kinds.items():
                if kind not in words:
                    raise ValueError(f"keywords.{lang}.{kind}: unknown kind; use opt_out, opt_in or help")
                words[kind] |= _norm(listed)
        clash = (
            (words["opt_out"] & words["opt_in"])
            | (words["opt_out"] & words["help"])
            | (words["opt_in"] & words["help"])
        )
        if clash:
            raise ValueError(
                f"keywords {sorted(clash)} are listed under two kinds (opt_out / opt_in / help); keep each in one"
            )
        return cls(frozenset(words["opt_out"]), frozenset(words["opt_in"]), frozenset(words["help"]))


def classify_keyword(text: str, config: KeywordConfig | None = None) -> Keyword | None:
    """``"opt_out"``, ``"opt_in"``, ``"help"`` when the whole message is such a keyword, else None."""
    config = config or KeywordConfig()
    word = text.strip().casefold()
    if not word:
        return None
    if word in config.opt_out:
        return "opt_out"
    if word in config.opt_in:
        return "opt_in"
    if word in config.help:
        return "help"
    return None

"""Word rules the policy applies before trusting the classifier.

Short, closed-class answers ("oui", "no", "annuler") are matched exactly, so a
confirmation or a cancel never depends on a model's confidence.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise", "is_cancel", "is_back_to_bot", "is_yes", "is_no", "word_count"]

CANCEL = {
    "cancel",
    "cancel it",
    "cancel that",
    "stop",
    "abort",
    "quit",
    "forget it",
    "never mind",
    "nevermind",
    "annuler",
    "annule",
    "annulez",
    "laisse tomber",
    "laissez tomber",
    "tant pis",
    "arrête",
    "arrete",
    "stop merci",
}
#: while waiting for a person: "take me back to the bot" (the cancel words work too).
BACK_TO_BOT = {
    "back to the bot",
    "back to bot",
    "go back to the bot",
    "take me back to the bot",
    "return to the bot",
    "back to the assistant",
    "talk to the bot",
    "bot please",
    "i don't need a person anymore",
    "retour au bot",
    "retour à l'assistant",
    "retour a l'assistant",
    "revenir au bot",
    "revenir à l'assistant",
    "revenir a l'assistant",
    "reparler au bot",
    "plus besoin de conseiller",
}
YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "correct",
    "right",
    "yes please",
    "go ahead",
    "do it",
    "that's right",
    "thats right",
    "absolutely",
    "of course",
    "oui",
    "ouais",
    "o",
    "d'accord",
    "daccord",
    "ok merci",
    "oui merci",
    "c'est bon",
    "cest bon",
    "parfait",
    "exactement",
    "vas y",
    "vas-y",
    "allez y",
    "allez-y",
    "je confirme",
    "confirmer",
    "bien sûr",
    "bien sur",
    "oui s'il vous plaît",
    "oui s'il vous plait",
    "oui svp",
    "c'est ça",
    "c'est ca",
}
YES_LEAD = {"yes", "yeah", "yep", "ok", "okay", "sure", "oui", "ouais", "d'accord"}
NO = {
    "no",
    "n",
    "nope",
    "nah",
    "no thanks",
    "no thank you",
    "not really",
    "don't",
    "dont",
    "non",
    "non merci",
    "pas du tout",
    "surtout pas",
    "non pas ça",
    "non pas ca",
}
NO_LEAD = {"no", "nope", "non"}

_PUNCT = re.compile(r"[^\w'\- ]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, NFC, curly apostrophes made straight, punctuation dropped, spaces collapsed."""
    t = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    t = _PUNCT.sub(" ", t)
    return _SPACES.sub(" ", t).strip(" -'")


def word_count(text: str) -> int:
    """Alphabetic words of two letters or more."""
    return len(_WORD.findall(text))


def is_cancel(text: str) -> bool:
    return normalise(text) in CANCEL


def is_back_to_bot(text: str) -> bool:
    return normalise(text) in BACK_TO_BOT


def is_yes(text: str) -> bool:
    t = normalise(text)
    return t in YES or (t.split(" ", 1)[0] in YES_LEAD and len(t.split()) <= 4)


def is_no(text: str) -> bool:
    t = normalise(text)
    return t in NO or (t.split(" ", 1)[0] in NO_LEAD and len(t.split()) <= 4)


#: words asking for another value than the one proposed ("another seat", "un autre siège").
OTHER = re.compile(
    r"\b(?:another|different|other|else|instead|rather|autre|différent|plutôt|plutot)\b",
    re.IGNORECASE,
)


def wants_other(text: str) -> bool:
    """True when the customer asks for something else than what is being confirmed."""
    return OTHER.search(normalise(text)) is not None

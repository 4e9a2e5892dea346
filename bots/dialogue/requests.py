"""Several requests in one message: "what's the baggage allowance? and when does check-in open?".

Pure. :func:`split_requests` cuts a message where another request plainly starts (a sentence
end, "and also", a new question after "and"/"et"); the runtime parses each part and, when two
or more parts carry different requests the bot acts on, runs them in order in the same turn.
A message that does not split, or whose parts mean one thing, is one request as before.
"""

from __future__ import annotations

import re

from nlu.result import NLUResult

__all__ = ["split_requests", "words_besides_entities", "MAX_PARTS", "MIN_PART_WORDS", "MIN_REQUEST_WORDS"]

#: at most this many requests are run from one message (the rest is the last part's).
MAX_PARTS = 3
#: a part shorter than this (in words) stays with its neighbour ("ok. thanks" is one message).
MIN_PART_WORDS = 2

_QUESTION_START = (
    r"(?:what|what's|whats|when|where|how|why|which|who|can|could|may|do|does|did|is|are|will|would|should|"
    r"i'd|i'd like|i want|i need|i would|please|also|quel|quelle|quels|quelles|quand|où|ou|comment|pourquoi|"
    r"combien|est-ce|puis-je|pouvez|pourriez|peut-on|je voudrais|je veux|j'aimerais|je souhaite|aussi)"
)
#: where a new request starts: after a sentence end, or "and"/"et"/"also" + a question word.
_SPLIT = re.compile(
    r"(?<=[?!])\s+"
    r"|(?<=[.;])\s+(?=\S)"
    r"|\s*[,;]?\s+(?:and also|and then|et aussi|et puis|also|aussi|plus|autre question)\s*[,:]?\s+"
    r"|\s*,?\s+(?:and|et)\s+(?=" + _QUESTION_START + r"\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: a part counts as a request of its own only with this many words besides its entities:
#: "réservation X7K9QZ" after a question is a detail of that question, not a second request.
MIN_REQUEST_WORDS = 3


def words_besides_entities(nlu: NLUResult) -> int:
    """Words of the part's text outside its entities' spans."""
    text = nlu.text
    for e in sorted(nlu.entities, key=lambda e: e.start, reverse=True):
        text = text[: e.start] + " " + text[e.end :]
    return len(_WORD.findall(text))


def split_requests(text: str) -> list[str]:
    """The message's parts, in order (one part when it does not split)."""
    parts = [p.strip(" ,;") for p in _SPLIT.split(text) if p and p.strip(" ,;.")]
    merged: list[str] = []
    for p in parts:
        if merged and min(len(_WORD.findall(p)), len(_WORD.findall(merged[-1]))) < MIN_PART_WORDS:
            merged[-1] = f"{merged[-1]} {p}"
        else:
            merged.append(p)
    if len(merged) > MAX_PARTS:
        merged = [*merged[: MAX_PARTS - 1], " ".join(merged[MAX_PARTS - 1 :])]
    return merged or [text]

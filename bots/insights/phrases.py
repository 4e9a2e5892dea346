"""Key phrases of redacted customer messages: lower-cased word unigrams and bigrams, English and
French stop words removed (pure; :mod:`bots.insights.summary` feeds it SQL-grouped texts)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..privacy.redaction import TOKENS

__all__ = ["STOP_WORDS", "phrases_of", "PhraseStat", "phrase_stats", "rank_phrases"]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TOKEN = re.compile("|".join(re.escape(t) for t in TOKENS))
_CLAUSE = re.compile(r"[.,;:!?()\[\]\"«»…\n]+")

#: English and French function words (and the elided forms l', d', j', qu'...).
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves im ive dont cant didnt doesnt isnt wasnt s t ll re ve d m
    au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur leurs lui
    ma mais me mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes
    toi ton tu un une vos votre vous c j l n y est suis es sont ai as avons avez ont été être avoir
    fait plus très bien aussi comme donc car si ça cela ceci là où quand alors encore déjà
    """.split()
)


def phrases_of(text: str) -> set[str]:
    """The distinct phrases of one message: content words and adjacent content-word pairs
    (a pair never spans punctuation, a stop word or a redacted item)."""
    out: set[str] = set()
    for clause in _CLAUSE.split(_TOKEN.sub(".", text)):
        previous: str | None = None
        for word in (w.lower() for w in _WORD.findall(clause)):
            if word in STOP_WORDS or len(word) < 2:
                previous = None
                continue
            out.add(word)
            if previous is not None:
                out.add(f"{previous} {word}")
            previous = word
    return out


@dataclass
class PhraseStat:
    """How often a phrase occurs (messages) and in how many negative ones, with negative examples."""

    count: int = 0
    negative: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


def phrase_stats(grouped: Iterable[tuple[str, int, int]], examples: int = 3) -> dict[str, PhraseStat]:
    """Every phrase's messages, negative ones and first negative examples.

    Args:
        grouped: (redacted text, messages with that text, negative ones among them), as
            ``GROUP BY text`` returns them (a phrase counts once per message).
    """
    stats: dict[str, PhraseStat] = {}
    for text, count, negative in grouped:
        for phrase in phrases_of(text):
            st = stats.setdefault(phrase, PhraseStat())
            st.count += count
            st.negative += negative
            if negative and len(st.examples) < examples:
                st.examples.append(text)
    return stats


def rank_phrases(stats: dict[str, PhraseStat], min_count: int = 3, limit: int = 10) -> list[tuple[str, PhraseStat]]:
    """Phrases most associated with negative sentiment: seen in at least ``min_count`` messages,
    at least one negative; by negative share (highest first), then count, then the phrase."""
    kept = [(p, s) for p, s in stats.items() if s.count >= min_count and s.negative > 0]
    kept.sort(key=lambda ps: (-ps[1].negative_share, -ps[1].count, ps[0]))
    return kept[:limit]

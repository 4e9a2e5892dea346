"""Near-duplicates between two sets of messages (an evaluation file and a training file).

A figure measured on messages that the model, or the person tuning it, has already seen is
not a held-out figure. :func:`near_duplicates` finds the pairs that are the same message up to
surface noise: both sides are :func:`normalise`\\ d (lower case, accents stripped, @handles,
URLs and digit runs replaced by placeholders, whitespace collapsed), then scored with
RapidFuzz's ``ratio`` (edit-distance similarity of the whole strings) and
``token_sort_ratio`` (the same on sorted words, so reordered words still match); the higher of
the two, in [0, 1], at or above ``threshold`` (0.8) is a near-duplicate. Not ``token_set_ratio``:
it scores 1.0 whenever one message's words are a subset of the other's, so a short training line
("thanks", "@user ok") would match every evaluation message (it flags all 300 of
``eval_tweets_en.jsonl``).

:func:`rule_phrase_hits` finds evaluation messages containing a phrase a rule of the model was
built from (e.g. the sarcasm phrases of ``nlu/data/sentiment/phrases.yml``), word for word.

All pure: texts in, pairs out. ``rapidfuzz.process.cdist`` scores every pair in C++ on all
cores, so thousands x thousands take well under a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

__all__ = ["NEAR_DUPLICATE", "NearDuplicate", "near_duplicates", "normalise", "phrase_words", "rule_phrase_hits"]

NEAR_DUPLICATE = 0.8
"""Similarity (0-1) at or above which two normalised messages count as the same message."""

_URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:com|co|ly|me|io|fr|net|org)/\S*", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """``text`` as compared: lower case, no accents, ``@user`` / ``url`` / ``0`` placeholders, single spaces."""
    text = _URL.sub(" url ", text)
    text = _HANDLE.sub(" @user ", text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def phrase_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` after :func:`normalise` (punctuation and apostrophes split words)."""
    return tuple(_WORD.findall(normalise(text)))


@dataclass(frozen=True)
class NearDuplicate:
    """One evaluation message too close to one training message."""

    eval_index: int
    train_index: int
    score: float
    eval_text: str
    train_text: str

    def __str__(self) -> str:
        return (
            f"{self.score:.2f}  eval #{self.eval_index}: {self.eval_text!r}"
            f"  ~ train #{self.train_index}: {self.train_text!r}"
        )


def near_duplicates(
    evaluation: Sequence[str], training: Sequence[str], threshold: float = NEAR_DUPLICATE
) -> list[NearDuplicate]:
    """Every evaluation message with a training message at similarity >= ``threshold``, its closest one.

    Args:
        evaluation: the messages a figure is reported on.
        training: the messages the model was built with.
        threshold: similarity in [0, 1] from which two normalised messages are the same message.

    Returns:
        One :class:`NearDuplicate` per offending evaluation message (its most similar training
        message), in evaluation order.
    """
    if not evaluation or not training:
        return []
    ev = [normalise(t) for t in evaluation]
    tr = [normalise(t) for t in training]
    cutoff = 100.0 * threshold
    # the two scorers in one C++ pass each; the elementwise max is the similarity
    scores = np.maximum(
        process.cdist(ev, tr, scorer=fuzz.ratio, score_cutoff=cutoff, workers=-1, dtype=np.float32),
        process.cdist(ev, tr, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, workers=-1, dtype=np.float32),
    )
    out: list[NearDuplicate] = []
    for row in np.flatnonzero(scores.max(axis=1) >= cutoff):
        i, j = int(row), int(scores[row].argmax())
        out.append(NearDuplicate(i, j, round(float(scores[i, j]) / 100.0, 3), evaluation[i], training[j]))
    return out


def rule_phrase_hits(evaluation: Sequence[str], phrases: Iterable[Sequence[str]]) -> list[tuple[int, str]]:
    """``(index, phrase)`` for each evaluation message containing one of ``phrases`` word for word.

    ``phrases`` are word sequences as a rule matches them (``("thanks", "for", "nothing")``); the
    messages are split with :func:`phrase_words`. One entry per message (its first phrase found).
    """
    wanted = [tuple(p) for p in phrases if p]
    out: list[tuple[int, str]] = []
    for i, text in enumerate(evaluation):
        words = phrase_words(text)
        for ph in wanted:
            n = len(ph)
            if any(words[k : k + n] == ph for k in range(len(words) - n + 1)):
                out.append((i, " ".join(ph)))
                break
    return out

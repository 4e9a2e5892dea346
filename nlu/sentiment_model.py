"""Sentiment: a linear model over words (negation marked), char n-grams and emoji cues.

Negation: words that follow a negator ("not", "never", "pas", "jamais", ...) up to the
next punctuation (at most 3 words) become ``NEG_word``, so "not good" and "good"
are different features. Emojis and emoticons add a polarity cue token
(``EMOPOS``/``EMONEG``) so an emoji unseen in training still counts.
Score = P(positive) - P(negative) in [-1, 1]; label = the most probable class.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .data import SENTIMENT_LABELS
from .features import Vectorizer
from .linear import LinearTextModel

__all__ = ["SentimentConfig", "SentimentModel", "mark_negation"]

NEGATORS = frozenset(
    "not no never nothing nobody none nor neither without cannot cant dont doesnt didnt isnt wasnt arent "
    "werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint "
    "pas jamais rien personne aucun aucune ni sans plus guere ne n".split()
)
_NOT_T = frozenset("don doesn didn isn wasn aren weren won wouldn couldn shouldn haven hasn hadn ain can".split())
_PUNCT = frozenset(".,;:!?()[]\"")
POSITIVE_EMOJI = frozenset("😀😃😄😁😆😊🙂😍🥰😘😎👍👌👏🙏❤💙💚💜🧡💛🎉✨⭐🌟🤩🥳💯✅☺😇🤗🙌💪")
NEGATIVE_EMOJI = frozenset("😠😡🤬😤😞😟😢😭😩😫😒🙄😔😕☹🙁👎💩😖😣😓🤮🤢😱😨😰💔❌🤦😑😐")
_EMOTICONS = {":)": "EMOPOS", ":-)": "EMOPOS", ":d": "EMOPOS", "<3": "EMOPOS", ";)": "EMOPOS",
              ":(": "EMONEG", ":-(": "EMONEG", ":/": "EMONEG", ":'(": "EMONEG"}


def mark_negation(words: list[str]) -> list[str]:
    """Prefix words in a negated scope with ``NEG_`` and add emoji polarity cues."""
    out: list[str] = []
    scope = 0
    prev = ""
    for w in words:
        if w in _PUNCT:
            scope = 0
            out.append(w)
        elif w == "t" and prev == "'":
            out.append(w)
        elif w in NEGATORS or w in _NOT_T:
            scope = 3
            out.append(w)
        elif scope > 0 and w != "'":
            out.append("NEG_" + w)
            scope -= 1
        else:
            out.append(w)
        if len(w) == 1 and not w.isascii():
            if w in POSITIVE_EMOJI:
                out.append("EMOPOS")
            elif w in NEGATIVE_EMOJI:
                out.append("EMONEG")
        prev = w
    return out


_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")


def _emoticons(text: str) -> str:
    """Emoticon cue tokens added; URLs and @mentions (tweets) reduced to placeholders."""
    if "@" in text or "http" in text or "www." in text:
        text = _MENTION.sub(" mention ", _URL.sub(" url ", text))
    low = text.lower()
    extra = [tok for emo, tok in _EMOTICONS.items() if emo in low]
    return text + (" " + " ".join(extra) if extra else "")


@dataclass(frozen=True)
class SentimentConfig:
    C: float = 4.0
    char_ngrams: tuple[int, int] = (2, 4)
    neutral_margin: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"C": self.C, "char_ngrams": list(self.char_ngrams), "neutral_margin": self.neutral_margin}


class SentimentModel:
    """Predicts (score in [-1, 1], label) for one text."""

    def __init__(self, linear: LinearTextModel | None, config: SentimentConfig) -> None:
        self.linear = linear
        self.config = config
        if linear is not None:
            cls = linear.classes
            self._pos = cls.index("positive") if "positive" in cls else -1
            self._neg = cls.index("negative") if "negative" in cls else -1

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], config: SentimentConfig | None = None,
            seed: int = 42) -> "SentimentModel":
        from sklearn.linear_model import LogisticRegression

        cfg = config or SentimentConfig()
        vec = Vectorizer(word_ngrams=2, char_ngrams=tuple(cfg.char_ngrams), min_df=1, token_hook=mark_negation)
        prepared = [_emoticons(t) for t in texts]
        vec.fit(prepared)
        X = vec.transform(prepared)
        lr = LogisticRegression(C=cfg.C, max_iter=2000, random_state=seed)
        lr.fit(X, list(labels))
        return cls(LinearTextModel.from_sklearn(vec, lr, 1.0), cfg)

    @classmethod
    def empty(cls) -> "SentimentModel":
        """A model with no data: always neutral (for a language without sentiment data)."""
        return cls(None, SentimentConfig())

    def _decide(self, p: np.ndarray) -> tuple[float, str]:
        pos = float(p[self._pos]) if self._pos >= 0 else 0.0
        neg = float(p[self._neg]) if self._neg >= 0 else 0.0
        score = max(-1.0, min(1.0, pos - neg))
        label = self.linear.classes[int(p.argmax())]  # type: ignore[union-attr]
        if self.config.neutral_margin and abs(score) < self.config.neutral_margin:
            label = "neutral"
        return round(score, 4), label

    def predict(self, text: str) -> tuple[float, str]:
        if self.linear is None:
            return 0.0, "neutral"
        return self._decide(self.linear.proba(_emoticons(text)))

    def predict_many(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        if self.linear is None:
            return [(0.0, "neutral") for _ in texts]
        if not texts:
            return []
        return [self._decide(p) for p in self.linear.proba_many([_emoticons(t) for t in texts])]

    def to_disk(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "sentiment.json").write_text(json.dumps(
            {"config": self.config.as_dict(), "trained": self.linear is not None}), encoding="utf-8")
        if self.linear is not None:
            self.linear.to_disk(path)

    @classmethod
    def from_disk(cls, path: Path) -> "SentimentModel":
        meta = json.loads((path / "sentiment.json").read_text(encoding="utf-8"))
        c = meta["config"]
        cfg = SentimentConfig(C=c["C"], char_ngrams=tuple(c["char_ngrams"]), neutral_margin=c["neutral_margin"])
        if not meta["trained"]:
            return cls(None, cfg)
        return cls(LinearTextModel.from_disk(path, token_hook=mark_negation), cfg)


assert set(SENTIMENT_LABELS) == {"negative", "neutral", "positive"}

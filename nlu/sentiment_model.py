"""Sentiment: a linear model over words (negation marked), char n-grams and tweet-style cues.

Before the features, :func:`prepare` rewrites the raw message the way service channels
write it: @mentions and URLs become placeholder words (``xmention``, ``xurl``),
hashtags become words (``#fail`` -> ``fail``, ``#NeverAgain`` -> ``never again``), letters
repeated 3+ times are squashed to two ("soooo" -> "soo"), and cue words are appended for
what the words alone miss: emoticons (``:(`` -> ``xemoneg``), shouting in capitals
(``xcaps``), "!!"/"??" (``xexcl``/``xqq``), "..." (``xdots``) and elongated words
(``xelong``).

Then the vectorizer's token hook :func:`sentiment_tokens` runs :func:`mark_negation`
(the words after a negator - "not", "never", "no", "n't", "pas", "jamais", ... - up to
punctuation or "but"/"mais", at most 3 words, become ``NEG_word``; emojis add
``EMOPOS``/``EMONEG`` so an emoji unseen in training still counts), adds ``LEXPOS``/``LEXNEG``
(``NEG_LEXPOS`` when negated) for words of a small en/fr polarity lexicon so words the
training data never shows still count, and :func:`sarcasm_cues` adds ``SARC`` when a praise
word meets a service failure ("great... another delay", "thanks for nothing", "awesome. 2
hours on the tarmac", "génial, encore un retard"). All of it is deterministic pure Python.
The lexicon and the sarcasm cues are versioned data files (``nlu/data/sentiment/lexicon.txt``,
``phrases.yml``), read when a model is first built or loaded; a saved model records their
versions and content hash (:func:`features_version`) and one saved with other features is
refused. Negators, emoji and the tweet-style regexes stay in code: they are how the text is
read (closed classes tied to the tokenizer), not vocabulary a brand would edit.
Score = P(positive) - P(negative) in [-1, 1]; label = the most probable class.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .data import SENTIMENT_LABELS, SHIPPED_SENTIMENT_DIR
from .errors import BadTrainingData, NotTrained
from .features import Vectorizer
from .linear import LinearTextModel

__all__ = [
    "LEXICON_FILE",
    "PHRASES_FILE",
    "SentimentConfig",
    "SentimentKnowledge",
    "SentimentModel",
    "mark_negation",
    "prepare",
    "sarcasm_cues",
    "sentiment_tokens",
    "features_version",
    "knowledge",
]

NEGATORS = frozenset(
    "not no never nothing nobody none nor neither without cannot cant dont doesnt didnt isnt wasnt arent "
    "werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint nope "
    "pas jamais rien personne aucun aucune ni sans plus guere ne n".split()
)
CUE_WORDS = frozenset("xemopos xemoneg xexcl xqq xdots xcaps xelong".split())
_APOSTROPHES = frozenset("'\u2019`")
_SCOPE_END = frozenset([*'.,;:!?()[]"', "but", "mais", "-", "\u2026"])
_PUNCT = frozenset('.,;:!?()[]"')
POSITIVE_EMOJI = frozenset("😀😃😄😁😆😊🙂😍🥰😘😎👍👌🙏❤💙💚💜🧡💛🎉✨⭐🌟🤩🥳💯✅☺😇🤗🙌💪🥂😋🤝")
NEGATIVE_EMOJI = frozenset("😠😡🤬😤😞😟😢😭😩😫😒🙄😔😕☹🙁👎💩😖😣😓🤮🤢😱😨😰💔❌🤦😑😐🙃😬😪🤯😵🥵🥶⏳")

LEXICON_FILE = SHIPPED_SENTIMENT_DIR / "lexicon.txt"
PHRASES_FILE = SHIPPED_SENTIMENT_DIR / "phrases.yml"
_POLARITIES = ("positive", "negative")


@dataclass(frozen=True)
class SentimentKnowledge:
    """The polarity lexicon and the sarcasm cues, read from versioned data files.

    ``features`` names what a trained model depends on: the files' versions and a hash of
    their content, saved with the model and part of the training fingerprint.
    """

    positive: frozenset[str]
    negative: frozenset[str]
    praise: frozenset[str]
    failure: frozenset[str]
    failure_after: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    phrase_starts: frozenset[str]
    features: str

    @classmethod
    def from_files(cls, lexicon: Path = LEXICON_FILE, phrases: Path = PHRASES_FILE) -> SentimentKnowledge:
        """Read ``lexicon`` (word TAB polarity) and ``phrases`` (YAML).

        Raises:
            nlu.errors.BadTrainingData: a file is missing, has no version/licence header or a bad line.
        """
        try:
            lex_bytes, phrase_bytes = lexicon.read_bytes(), phrases.read_bytes()
        except OSError as exc:
            raise BadTrainingData(str(exc.filename), f"sentiment knowledge file unreadable: {exc.strerror}") from exc
        words: dict[str, set[str]] = {pol: set() for pol in _POLARITIES}
        header: dict[str, str] = {}
        for n, line in enumerate(lex_bytes.decode("utf-8").splitlines(), 1):
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep and key.strip() in ("version", "licence"):
                    header[key.strip()] = value.strip()
                continue
            if not line.strip():
                continue
            word, sep, polarity = line.partition("\t")
            if not sep or polarity.strip() not in words or not word.strip():
                raise BadTrainingData(str(lexicon), f"line {n}: {line!r} is not 'word<TAB>positive|negative'")
            words[polarity.strip()].add(word.strip())
        if "version" not in header or "licence" not in header:
            raise BadTrainingData(str(lexicon), "the header needs '# version: N' and '# licence: ...' lines")
        data = yaml.safe_load(phrase_bytes.decode("utf-8"))
        keys = ("version", "licence", "praise", "failure", "failure_after_praise", "phrases")
        if not isinstance(data, dict) or any(k not in data for k in keys):
            raise BadTrainingData(str(phrases), f"needs the keys {', '.join(keys)}")
        failure = frozenset(str(data["failure"]).split())
        sarcastic = tuple(tuple(str(ph).split()) for ph in data["phrases"])
        digest = hashlib.sha256(lex_bytes + b"\0" + phrase_bytes).hexdigest()[:16]
        return cls(
            positive=frozenset(words["positive"]),
            negative=frozenset(words["negative"]),
            praise=frozenset(str(data["praise"]).split()),
            failure=failure,
            failure_after=failure | frozenset(str(data["failure_after_praise"]).split()),
            phrases=sarcastic,
            phrase_starts=frozenset(ph[0] for ph in sarcastic if ph),
            features=f"lexicon v{header['version']}, phrases v{data['version']}, sha256 {digest}",
        )


@lru_cache(maxsize=1)
def knowledge() -> SentimentKnowledge:
    """The shipped lexicon and sarcasm cues, read once (when a model is first built or loaded)."""
    return SentimentKnowledge.from_files()


def features_version() -> str:
    """What a saved model's features depend on (versions + content hash of the data files)."""
    return knowledge().features


def sarcasm_cues(words: list[str]) -> list[str]:
    """``["SARC"]`` when praise meets a service failure in one message (or a stock sarcastic phrase)."""
    k = knowledge()
    n = len(words)
    for i, w in enumerate(words):
        if w in k.phrase_starts:
            for ph in k.phrases:
                if ph[0] == w and tuple(words[i : i + len(ph)]) == ph:
                    return ["SARC"]
    praise = [i for i, w in enumerate(words) if w in k.praise]
    if not praise:
        return []
    # praise followed by punctuation (great... / awesome. / bravo 👏) then a failure
    for i in praise:
        if (
            i + 1 < n
            and (words[i + 1] in _PUNCT or not words[i + 1].isascii())
            and any(w in k.failure_after for w in words[i + 2 :])
        ):
            return ["SARC", "SARCP"]
    return ["SARC"] if any(w in k.failure for w in words) else []


def mark_negation(words: list[str]) -> list[str]:
    """Prefix words in a negated scope with ``NEG_`` and add emoji polarity cues.

    "don't" arrives as ``don ' t``: the scope opens at the ``t`` (so "can I" is not negated).
    """
    out: list[str] = []
    scope = 0
    prev = ""
    for w in words:
        if w in _SCOPE_END or w in CUE_WORDS:
            scope = 0
            out.append(w)
        elif (w == "t" and prev in _APOSTROPHES) or w in NEGATORS:
            scope = 3
            out.append(w)
        elif scope > 0 and w not in _APOSTROPHES:
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


def sentiment_tokens(words: list[str]) -> list[str]:
    """The sentiment vectorizer's token hook: negation scope, emoji, lexicon and sarcasm cues."""
    k = knowledge()
    out = mark_negation(words)
    lex: list[str] = []
    for w in out:
        neg = w.startswith("NEG_")
        base = w[4:] if neg else w
        if base in k.positive:
            lex.append("NEG_LEXPOS" if neg else "LEXPOS")
        elif base in k.negative:
            lex.append("NEG_LEXNEG" if neg else "LEXNEG")
    return out + lex + sarcasm_cues(words)


_URL = re.compile(r"https?://\S+|www\.\S+|\b\w+\.(?:com|co|ly|me|io|fr|net|org)/\S*", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#([^\W\d_][\w]*)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ELONG = re.compile(r"([^\W\d_])\1{2,}")
_CAPS = re.compile(r"\b[A-Z\u00c0-\u00dd]{4,}\b")
_EXCL = re.compile(r"!{2,}|[!?]*\?!|!\?")
_QQ = re.compile(r"\?{2,}")
_DOTS = re.compile(r"\.{3,}|\u2026")
_EMOTICON_POS = re.compile(r"(?:^|\s)(?:[:;=]-?[)\]dDpP]|<3|\^\^|\^_\^|xD|XD)(?=\s|$|[.!,])")
_EMOTICON_NEG = re.compile(r"(?:^|\s)(?:[:=]'?-?[(\[/\\|]|D:|-_-|>:\(|</3)(?=\s|$|[.!,])")


def _hashtag(m: re.Match[str]) -> str:
    tag = m.group(1)
    return " " + (_CAMEL.sub(" ", tag) if not tag.isupper() else tag) + " "


def prepare(text: str) -> str:
    """Tweet-style text rewritten for the sentiment features (placeholders, hashtags, cue words)."""
    cues: list[str] = []
    if "http" in text or "www." in text or "/" in text:
        text = _URL.sub(" xurl ", text)
    if "@" in text:
        text = _MENTION.sub(" xmention ", text)
    if "#" in text:
        text = _HASHTAG.sub(_hashtag, text)
    if (
        ":" in text
        or ";" in text
        or "=" in text
        or "<" in text
        or "^" in text
        or "-" in text
        or "xD" in text
        or "XD" in text
    ):
        if _EMOTICON_POS.search(text):
            cues.append("xemopos")
        if _EMOTICON_NEG.search(text):
            cues.append("xemoneg")
    if "!" in text or "?" in text:
        if _EXCL.search(text):
            cues.append("xexcl")
        if _QQ.search(text):
            cues.append("xqq")
    if (".." in text or "\u2026" in text) and _DOTS.search(text):
        cues.append("xdots")
    if not text.islower() and _CAPS.search(text):
        cues.append("xcaps")
    if _ELONG.search(text):
        cues.append("xelong")
        text = _ELONG.sub(r"\1\1", text)
    return text + " " + " ".join(cues) if cues else text


@dataclass(frozen=True)
class SentimentConfig:
    """Training settings, chosen on a dev split carved from the training data (``benchmarks/nlu_sentiment.py --dev``).

    ``class_weight="balanced"`` weighs each class by the inverse of its share of the training
    messages, so the service channels' lean to negative (about half the data) does not become a
    prior that calls unfamiliar text negative.
    """

    C: float = 4.0
    char_ngrams: tuple[int, int] = (2, 4)
    neutral_margin: float = 0.0
    class_weight: str | None = "balanced"

    def as_dict(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "char_ngrams": list(self.char_ngrams),
            "neutral_margin": self.neutral_margin,
            "class_weight": self.class_weight,
        }

    @classmethod
    def from_dict(cls, c: dict[str, Any]) -> SentimentConfig:
        return cls(
            C=c["C"],
            char_ngrams=tuple(c["char_ngrams"]),
            neutral_margin=c["neutral_margin"],
            # a model saved before the setting existed was trained without class weights
            class_weight=c.get("class_weight"),
        )


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
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], config: SentimentConfig | None = None, seed: int = 42
    ) -> SentimentModel:
        from sklearn.linear_model import LogisticRegression

        cfg = config or SentimentConfig()
        knowledge()  # read the lexicon and sarcasm cues now: a bad data file fails the build, not a message
        vec = Vectorizer(word_ngrams=2, char_ngrams=cfg.char_ngrams, min_df=1, token_hook=sentiment_tokens)
        prepared = [prepare(t) for t in texts]
        vec.fit(prepared)
        X = vec.transform(prepared)
        lr = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=2000, random_state=seed)
        lr.fit(X, list(labels))
        return cls(LinearTextModel.from_sklearn(vec, lr, 1.0), cfg)

    @classmethod
    def empty(cls) -> SentimentModel:
        """A model with no data: always neutral (for a language without sentiment data)."""
        return cls(None, SentimentConfig())

    def _decide(self, linear: LinearTextModel, p: np.ndarray) -> tuple[float, str]:
        pos = float(p[self._pos]) if self._pos >= 0 else 0.0
        neg = float(p[self._neg]) if self._neg >= 0 else 0.0
        score = max(-1.0, min(1.0, pos - neg))
        label = linear.classes[int(p.argmax())]
        if self.config.neutral_margin and abs(score) < self.config.neutral_margin:
            label = "neutral"
        return round(score, 4), label

    def predict(self, text: str) -> tuple[float, str]:
        linear = self.linear
        if linear is None:
            return 0.0, "neutral"
        return self._decide(linear, linear.proba(prepare(text)))

    def predict_many(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        linear = self.linear
        if linear is None:
            return [(0.0, "neutral") for _ in texts]
        if not texts:
            return []
        return [self._decide(linear, p) for p in linear.proba_many([prepare(t) for t in texts])]

    def to_disk(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "sentiment.json").write_text(
            json.dumps(
                {"config": self.config.as_dict(), "trained": self.linear is not None, "features": features_version()}
            ),
            encoding="utf-8",
        )
        if self.linear is not None:
            self.linear.to_disk(path)

    @classmethod
    def from_disk(cls, path: Path) -> SentimentModel:
        meta = json.loads((path / "sentiment.json").read_text(encoding="utf-8"))
        saved = meta.get("features", 1)  # before the data files: an int (1 when absent)
        if meta.get("trained") and saved != features_version():
            saved_name = f"v{saved}" if isinstance(saved, int) else str(saved)
            raise NotTrained(
                path.parent.name,
                str(path),
                f"sentiment model saved with features {saved_name!r}, this code reads {features_version()!r}",
            )
        cfg = SentimentConfig.from_dict(meta["config"])
        if not meta["trained"]:
            return cls(None, cfg)
        return cls(LinearTextModel.from_disk(path, token_hook=sentiment_tokens), cfg)


assert set(SENTIMENT_LABELS) == {"negative", "neutral", "positive"}

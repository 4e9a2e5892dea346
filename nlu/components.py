"""The spaCy components of a brandbot pipeline (registered on import).

Each is a factory with every setting in ``default_config`` and its
``assigns``/``requires`` declared; weights are written by ``to_disk`` and read
by ``from_disk``, so ``nlp.to_disk(path)`` / ``spacy.load(path)`` round-trip a
trained pipeline. Training is ``component.fit(texts, labels, seed=...)`` (linear
models fitted in one go, not by gradient updates).

Doc extensions written:
- ``doc._.intent`` (str), ``doc._.intent_confidence`` (float),
  ``doc._.intent_ranking`` (list of (name, confidence));
- ``doc._.entities`` (list of nlu.result.Entity);
- ``doc._.sentiment_score`` (float in [-1, 1]), ``doc._.sentiment_label`` (str).
Read: ``doc._.parse_context`` (nlu.result.ParseContext or None) for dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from .entities import EntityExtractor
from .intent_model import IntentConfig, IntentModel
from .result import OUT_OF_SCOPE
from .sentiment_model import SentimentConfig, SentimentModel

__all__ = ["doc_text", "IntentComponent", "EntityComponent", "SentimentComponent", "INTENTS", "ENTITIES", "SENTIMENT"]

INTENTS = "brandbot_intents"
ENTITIES = "brandbot_entities"
SENTIMENT = "brandbot_sentiment"

for _name, _default in (
    ("intent", None),
    ("intent_confidence", 0.0),
    ("intent_ranking", None),
    ("entities", None),
    ("sentiment_score", 0.0),
    ("sentiment_label", "neutral"),
    ("parse_context", None),
):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def doc_text(doc: Doc) -> str:
    """``doc.text``, computed once per doc (spaCy rebuilds it from the tokens on each access)."""
    text = doc.user_data.get("brandbot_text")
    if text is None:
        text = doc.user_data["brandbot_text"] = doc.text
    return text


class IntentComponent:
    """Intent + confidence + ranking, with out-of-scope detection (see nlu.intent_model)."""

    def __init__(self, nlp: Language, name: str, config: IntentConfig) -> None:
        self.name = name
        self.config = config
        self.model: IntentModel | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str], seed: int = 42, progress: Any = None) -> None:
        self.model = IntentModel.fit(texts, labels, self.config, seed=seed, progress=progress)

    def _set(self, doc: Doc, pred: tuple[str, float, list[tuple[str, float]]]) -> Doc:
        ext = doc._
        ext.intent, ext.intent_confidence, ext.intent_ranking = pred
        return doc

    def __call__(self, doc: Doc) -> Doc:
        if self.model is None:
            return self._set(doc, (OUT_OF_SCOPE, 0.0, []))
        return self._set(doc, self.model.predict(doc_text(doc)))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._pipe_batch(batch)
                batch = []
        if batch:
            yield from self._pipe_batch(batch)

    def _pipe_batch(self, docs: list[Doc]) -> Iterator[Doc]:
        if self.model is None:
            for doc in docs:
                yield self(doc)
            return
        for doc, pred in zip(docs, self.model.predict_many([doc_text(d) for d in docs]), strict=True):
            yield self._set(doc, pred)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.to_disk(path)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> IntentComponent:
        path = Path(path)
        if (path / "intent.json").is_file():
            self.model = IntentModel.from_disk(path)
        return self


class EntityComponent:
    """Structured entities with normalised values (see nlu.entities)."""

    def __init__(
        self, nlp: Language, name: str, date_order: str, phone_country_code: str, extra_airports: dict[str, list[str]]
    ) -> None:
        self.name = name
        if nlp.lang is None:  # spaCy types it optional; our pipelines are all spacy.blank(lang)
            raise ValueError(f"the {name!r} component needs a pipeline made for one language (spacy.blank(lang))")
        self.extractor = EntityExtractor(
            nlp.lang, date_order=date_order, phone_country_code=phone_country_code, extra_airports=extra_airports
        )

    def __call__(self, doc: Doc) -> Doc:
        ctx = doc._.parse_context
        if ctx is None:
            doc._.entities = self.extractor.extract(doc_text(doc))
        else:
            doc._.entities = self.extractor.extract(doc_text(doc), ctx.now, ctx.timezone)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> EntityComponent:
        return self


class SentimentComponent:
    """Sentiment score in [-1, 1] and label (see nlu.sentiment_model)."""

    def __init__(self, nlp: Language, name: str, config: SentimentConfig) -> None:
        self.name = name
        self.config = config
        self.model = SentimentModel.empty()

    def fit(self, texts: Sequence[str], labels: Sequence[str], seed: int = 42) -> None:
        self.model = SentimentModel.fit(texts, labels, self.config, seed=seed)

    def __call__(self, doc: Doc) -> Doc:
        ext = doc._
        ext.sentiment_score, ext.sentiment_label = self.model.predict(doc_text(doc))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        docs = list(docs)
        for doc, (score, label) in zip(docs, self.model.predict_many([doc_text(d) for d in docs]), strict=True):
            doc._.sentiment_score, doc._.sentiment_label = score, label
            yield doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self.model.to_disk(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> SentimentComponent:
        path = Path(path)
        if (path / "sentiment.json").is_file():
            self.model = SentimentModel.from_disk(path)
        return self


@Language.factory(
    INTENTS,
    default_config={
        "C": 1.0,
        "word_ngrams": 2,
        "char_ngrams": [2, 5],
        "min_df": 0,
        "holdout_fraction": 0.2,
        "max_in_scope_rejection": 0.005,
        "oos_threshold": "auto",
        "ranking_size": 10,
        "oos_class_weight": 1.0,
    },
    assigns=["doc._.intent", "doc._.intent_confidence", "doc._.intent_ranking"],
)
def make_intents(
    nlp: Language,
    name: str,
    C: float,
    word_ngrams: int,
    char_ngrams: list[int],
    min_df: int,
    holdout_fraction: float,
    max_in_scope_rejection: float,
    oos_threshold: Any,
    ranking_size: int,
    oos_class_weight: float,
) -> IntentComponent:
    cfg = IntentConfig(
        C=C,
        word_ngrams=word_ngrams,
        char_ngrams=(char_ngrams[0], char_ngrams[1]),
        min_df=min_df,
        holdout_fraction=holdout_fraction,
        max_in_scope_rejection=max_in_scope_rejection,
        oos_threshold=oos_threshold,
        ranking_size=ranking_size,
        oos_class_weight=oos_class_weight,
    )
    return IntentComponent(nlp, name, cfg)


@Language.factory(
    ENTITIES,
    default_config={"date_order": "DMY", "phone_country_code": "", "extra_airports": {}},
    assigns=["doc._.entities"],
    requires=["doc._.parse_context"],
)
def make_entities(
    nlp: Language, name: str, date_order: str, phone_country_code: str, extra_airports: dict[str, list[str]]
) -> EntityComponent:
    if date_order not in ("DMY", "MDY", "YMD"):
        raise ValueError(f"date_order {date_order!r} is not one of DMY, MDY, YMD")
    return EntityComponent(nlp, name, date_order, phone_country_code, extra_airports)


@Language.factory(
    SENTIMENT,
    default_config={"C": 4.0, "char_ngrams": [2, 4], "neutral_margin": 0.0},
    assigns=["doc._.sentiment_score", "doc._.sentiment_label"],
)
def make_sentiment(
    nlp: Language, name: str, C: float, char_ngrams: list[int], neutral_margin: float
) -> SentimentComponent:
    return SentimentComponent(
        nlp, name, SentimentConfig(C=C, char_ngrams=(char_ngrams[0], char_ngrams[1]), neutral_margin=neutral_margin)
    )

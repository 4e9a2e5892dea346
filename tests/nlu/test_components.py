"""The components the spaCy way: spacy.blank + add_pipe, config, to_disk/from_disk."""

from __future__ import annotations

from pathlib import Path

import spacy

import nlu.components  # noqa: F401 - imported for its effect: registers the factories
from nlu.components import ENTITIES, INTENTS, SENTIMENT, IntentComponent, SentimentComponent
from nlu.result import ParseContext
from tests.nlu.conftest import NOW

TEXTS = [
    "hello",
    "hi there",
    "hey",
    "good morning",
    "is my flight late",
    "flight status",
    "is NM1 delayed",
    "has my plane left",
    "tell a joke",
    "weather today",
    "cook pasta",
    "sing a song",
]
LABELS = ["greet"] * 4 + ["flight_status"] * 4 + ["out_of_scope"] * 4


def test_intents_component_on_a_blank_pipeline(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe(INTENTS, config={"C": 0.5, "ranking_size": 2})
    assert isinstance(pipe, IntentComponent)
    assert pipe.config.C == 0.5
    pipe.fit(TEXTS, LABELS, seed=1)
    doc = nlp("is my flight late today")
    assert doc._.intent == "flight_status" and len(doc._.intent_ranking) == 2
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    doc2 = again("is my flight late today")
    assert (doc2._.intent, doc2._.intent_confidence) == (doc._.intent, doc._.intent_confidence)
    loaded = again.get_pipe(INTENTS)
    assert isinstance(loaded, IntentComponent) and loaded.config.ranking_size == 2


def test_component_metadata_declares_what_it_writes() -> None:
    nlp = spacy.blank("fr")
    for name in (INTENTS, ENTITIES, SENTIMENT):
        nlp.add_pipe(name)
    meta = nlp.get_pipe_meta(INTENTS)
    assert "doc._.intent" in meta.assigns
    assert "doc._.entities" in nlp.get_pipe_meta(ENTITIES).assigns
    assert "doc._.parse_context" in nlp.get_pipe_meta(ENTITIES).requires
    assert "doc._.sentiment_score" in nlp.get_pipe_meta(SENTIMENT).assigns
    assert nlp.config["components"][ENTITIES]["date_order"] == "DMY"


def test_entities_component_reads_the_parse_context() -> None:
    nlp = spacy.blank("fr")
    nlp.add_pipe(ENTITIES, config={"phone_country_code": "33"})
    doc = nlp.make_doc("demain au 06 12 34 56 78")
    doc._.parse_context = ParseContext(NOW, "Europe/Paris", "fr")
    doc = nlp.get_pipe(ENTITIES)(doc)
    assert [(e.type, e.value) for e in doc._.entities] == [("date", "2026-11-29"), ("phone", "+33612345678")]


def test_untrained_components_are_harmless() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe(INTENTS)
    nlp.add_pipe(SENTIMENT)
    doc = nlp("anything")
    assert doc._.intent == "out_of_scope" and doc._.sentiment_label == "neutral"


def test_sentiment_component_round_trips(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe(SENTIMENT)
    assert isinstance(pipe, SentimentComponent)
    pipe.fit(
        ["great thanks", "awful service", "what time is it", "love it", "terrible", "where is gate 5"],
        ["positive", "negative", "neutral", "positive", "negative", "neutral"],
    )
    docs = list(nlp.pipe(["great service", "terrible delay"]))
    nlp.to_disk(tmp_path / "s")
    again = spacy.load(tmp_path / "s")
    assert [d._.sentiment_label for d in again.pipe(["great service", "terrible delay"])] == [
        d._.sentiment_label for d in docs
    ]

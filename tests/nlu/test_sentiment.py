"""Sentiment: negation, intensifiers, emojis and the quiet complaints of service talk."""

from __future__ import annotations

import pytest

from nlu.data import SHIPPED_SENTIMENT_DIR, read_sentiment_file
from nlu.sentiment_model import SentimentModel, mark_negation


@pytest.fixture(scope="module")
def models() -> dict[str, SentimentModel]:
    out = {}
    for lang in ("en", "fr"):
        ex = read_sentiment_file(SHIPPED_SENTIMENT_DIR / f"{lang}.jsonl")
        out[lang] = SentimentModel.fit([e.text for e in ex], [e.label for e in ex])
    return out


def test_shipped_data_is_balanced_and_large_enough() -> None:
    for lang in ("en", "fr"):
        labels = [e.label for e in read_sentiment_file(SHIPPED_SENTIMENT_DIR / f"{lang}.jsonl")]
        assert len(labels) >= 300
        for lab in ("negative", "neutral", "positive"):
            assert labels.count(lab) >= 90, (lang, lab)


def test_negation_marks_the_words_that_follow() -> None:
    assert mark_negation(["not", "good", "at", "all"]) == ["not", "NEG_good", "NEG_at", "NEG_all"]
    assert mark_negation(["pas", "bon", ",", "merci"]) == ["pas", "NEG_bon", ",", "merci"]


@pytest.mark.parametrize(
    ("lang", "text", "label"),
    [
        ("en", "good service", "positive"),
        ("en", "the food was not good at all", "negative"),
        ("en", "the crew was not friendly", "negative"),
        ("en", "honestly not bad at all!", "positive"),
        ("en", "still waiting for my refund", "negative"),
        ("en", "so so disappointed", "negative"),
        ("en", "what time does boarding start", "neutral"),
        ("fr", "le repas était bon", "positive"),
        ("fr", "le repas n'était pas bon du tout", "negative"),
        ("fr", "franchement, pas mal du tout", "positive"),
        ("fr", "toujours pas de remboursement", "negative"),
        ("fr", "à quelle heure part mon vol", "neutral"),
    ],
)
def test_negation_and_quiet_complaints(models: dict[str, SentimentModel], lang: str, text: str, label: str) -> None:
    assert models[lang].predict(text)[1] == label


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_emojis_carry_polarity(models: dict[str, SentimentModel], lang: str) -> None:
    base = "ok" if lang == "en" else "d'accord"
    neutral_score = models[lang].predict(base)[0]
    assert models[lang].predict(base + " 😡😡")[0] < neutral_score
    assert models[lang].predict(base + " 😍🙏")[0] > neutral_score
    assert models[lang].predict("🤬")[1] == "negative"
    assert models[lang].predict("🥰")[1] == "positive"


def test_intensifiers_and_scores_are_in_range(models: dict[str, SentimentModel]) -> None:
    mild = models["en"].predict("bad service")[0]
    strong = models["en"].predict("absolutely terrible, the worst service ever!!! 😡")[0]
    assert -1.0 <= strong < mild <= 1.0


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_far_better_than_always_negative_on_held_out_tweet_style_messages(
    models: dict[str, SentimentModel], lang: str
) -> None:
    """Held-out (never trained on) airline-tweet-style messages, 60% negative like real ones."""
    from pathlib import Path

    from nlu.evaluation import sentiment_metrics

    test = read_sentiment_file(Path(__file__).parent / "data" / f"sentiment_heldout_{lang}.jsonl")
    pred = [lab for _s, lab in models[lang].predict_many([e.text for e in test])]
    m = sentiment_metrics([e.label for e in test], pred)
    assert m["always_negative_accuracy"] == pytest.approx(0.6)
    assert m["accuracy"] >= m["always_negative_accuracy"] + 0.2
    assert m["macro_f1"] >= 0.75

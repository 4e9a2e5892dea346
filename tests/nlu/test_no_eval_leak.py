"""Evaluation files are held out: no near-duplicate of a training message, no rule phrase.

A figure the project reports (README "Measured", benchmarks/README.md, the held-out tests) is
only a held-out figure if none of its messages is a training message again with another
handle, number or a word moved (:func:`nlu.dedupe.near_duplicates`, similarity >= 0.8), and
if no rule the model was built with (the sarcasm phrases) was written from it. A failure lists
every offending pair: remove those rows from the evaluation file (never raise the threshold).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.data import SHIPPED_SENTIMENT_DIR, read_sentiment_file
from nlu.dedupe import NEAR_DUPLICATE, near_duplicates, normalise, rule_phrase_hits
from nlu.sentiment_model import SentimentKnowledge

HERE = Path(__file__).parent / "data"
# what the shipped sentiment model is trained on (nlu.data.sentiment_data_paths: <lang>.jsonl)
TRAINING = sorted(p for p in SHIPPED_SENTIMENT_DIR.glob("*.jsonl") if len(p.stem) <= 3)
# what figures are reported on
EVALUATION = [
    SHIPPED_SENTIMENT_DIR / "eval_tweets_en.jsonl",
    SHIPPED_SENTIMENT_DIR / "eval_public_en.jsonl",
    SHIPPED_SENTIMENT_DIR / "eval_public_fr.jsonl",
    HERE / "sentiment_heldout_en.jsonl",
    HERE / "sentiment_heldout_fr.jsonl",
]


def _texts(path: Path) -> list[str]:
    return [e.text for e in read_sentiment_file(path)]


def test_the_files_are_where_the_check_expects_them() -> None:
    assert [p.name for p in TRAINING] == ["en.jsonl", "fr.jsonl"]
    assert all(p.is_file() for p in EVALUATION)
    assert not set(TRAINING) & set(EVALUATION)


@pytest.mark.parametrize("train", TRAINING, ids=lambda p: p.name)
@pytest.mark.parametrize("evaluation", EVALUATION, ids=lambda p: p.name)
def test_no_evaluation_message_is_a_near_duplicate_of_a_training_message(evaluation: Path, train: Path) -> None:
    found = near_duplicates(_texts(evaluation), _texts(train), NEAR_DUPLICATE)
    assert not found, (
        f"{len(found)} messages of {evaluation} have a near-duplicate (similarity >= {NEAR_DUPLICATE}) in {train}; "
        "remove them from the evaluation file:\n" + "\n".join(str(d) for d in found)
    )


@pytest.mark.parametrize("evaluation", EVALUATION, ids=lambda p: p.name)
def test_no_evaluation_message_contains_a_sarcasm_rule_phrase(evaluation: Path) -> None:
    texts = _texts(evaluation)
    hits = rule_phrase_hits(texts, SentimentKnowledge.from_files().phrases)
    assert not hits, (
        f"{len(hits)} messages of {evaluation} contain a phrase of nlu/data/sentiment/phrases.yml; "
        "remove them from the evaluation file:\n" + "\n".join(f"{ph!r} in #{i}: {texts[i]!r}" for i, ph in hits)
    )


def test_normalise_hides_handles_urls_digits_accents_and_spacing() -> None:
    assert normalise("@United  on hold 2 HRS  https://t.co/x") == normalise("@delta on hold 45 hrs http://bit.ly/y")
    assert normalise("Réservation   annulée") == "reservation annulee"


def test_the_check_finds_a_reworded_copy_and_spares_a_different_message() -> None:
    train = ["gate changed 4 times and no announcement", "thanks for the quick reply"]
    found = near_duplicates(["@AmericanAir the gate changed 3 times and no announcement", "is there wifi?"], train)
    assert [(d.eval_index, d.train_index) for d in found] == [(0, 0)]
    assert found[0].score >= NEAR_DUPLICATE
    assert rule_phrase_hits(["@x Thanks for NOTHING!", "thanks for the help"], [("thanks", "for", "nothing")]) == [
        (0, "thanks for nothing")
    ]

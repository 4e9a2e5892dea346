"""Training: fingerprints (no retrain when unchanged, retrain when one example changes), bad data."""

from __future__ import annotations

from pathlib import Path

import pytest

import nlu
from nlu.data import load_examples, read_intent_file
from tests.nlu.conftest import ctx


def test_train_then_skip_when_nothing_changed(tiny_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    steps: list[tuple[str, str]] = []
    first = nlu.train(
        tiny_data, models, ["en", "fr"], progress=lambda lang, step, done, total: steps.append((lang, step))
    )
    assert first.trained == ["en", "fr"] and first.skipped == []
    assert ("en", "training intents") in steps and ("fr", "saving") in steps
    assert not nlu.needs_training(tiny_data, models, ["en", "fr"])
    mtime = (models / "en" / "fingerprint.json").stat().st_mtime_ns
    again = nlu.train(tiny_data, models, ["en", "fr"])
    assert again.trained == [] and again.skipped == ["en", "fr"]
    assert "unchanged" in again.languages[0].reason
    assert (models / "en" / "fingerprint.json").stat().st_mtime_ns == mtime


def test_one_changed_example_retrains_only_that_language(tiny_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    nlu.train(tiny_data, models, ["en", "fr"])
    en = tiny_data / "en.yml"
    en.write_text(en.read_text(encoding="utf-8").replace("hiya", "hiya there"), encoding="utf-8")
    assert nlu.needs_training(tiny_data, models, ["en", "fr"])
    assert not nlu.needs_training(tiny_data, models, ["fr"])
    report = nlu.train(tiny_data, models, ["en", "fr"])
    assert report.trained == ["en"] and report.skipped == ["fr"]


def test_force_and_seed_change_retrain(tiny_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    nlu.train(tiny_data, models, ["en"])
    assert nlu.train(tiny_data, models, ["en"], force=True).trained == ["en"]
    assert nlu.needs_training(tiny_data, models, ["en"], seed=7)


def test_a_brand_sentiment_file_changes_the_fingerprint(tiny_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    nlu.train(tiny_data, models, ["en"])
    (tiny_data / "sentiment").mkdir()
    (tiny_data / "sentiment" / "en.jsonl").write_text(
        '{"text": "Nimbus rocks", "sentiment": "positive"}\n', encoding="utf-8"
    )
    assert nlu.needs_training(tiny_data, models, ["en"])


def test_training_is_reproducible(tiny_data: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    nlu.train(tiny_data, a, ["en"], seed=3)
    nlu.train(tiny_data, b, ["en"], seed=3)
    na, nb = nlu.NLU.load(a, ["en"], "en"), nlu.NLU.load(b, ["en"], "en")
    for text in ("is my flight late", "window seat", "sing me something", "hey"):
        assert na.parse(text, context=ctx("en")).to_dict() == nb.parse(text, context=ctx("en")).to_dict()


def test_trained_tiny_model_parses(tiny_data: Path, tmp_path: Path) -> None:
    nlu.train(tiny_data, tmp_path / "m", ["en", "fr"])
    engine = nlu.NLU.load(tmp_path / "m", ["en", "fr"], "en")
    assert engine.parse("is flight NM1234 late?", context=ctx("en")).intent == "flight_status"
    assert engine.parse("je veux changer de siège", context=ctx("fr")).intent == "change_seat"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("intents: [a, b]", r"expected a top-level mapping with `intents:"),
        ("intents:\n  greet: hello\n  bye: [bye]", r"intent 'greet' must be a non-empty list"),
        ("intents:\n  greet: [hello, yes]\n  affirm: [yes, no]", r"read as True: YAML turns unquoted"),
        ("intents:\n  Greet: [hello]\n  bye: [bye]", r"intent name 'Greet' must be lower_snake_case"),
        ("intents:\n  greet: [hello]", r"at least two intents"),
        ("language: fr\nintents:\n  greet: [hello]\n  bye: [bye]", r"`language: fr` does not match"),
        ("intents: {greet: [hello], bye: [bye", r"not valid YAML"),
    ],
)
def test_malformed_training_data_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "en.yml").write_text(content, encoding="utf-8")
    with pytest.raises(nlu.BadTrainingData, match=message) as info:
        load_examples(tmp_path, "en")
    assert "en.yml" in str(info.value)


def test_missing_language_file_names_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(nlu.BadTrainingData, match=r"no intent data for language 'de'.*de\.yml"):
        nlu.train(tmp_path, tmp_path / "m", ["de"])


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "en.jsonl"
    p.write_text('{"text": "hi", "intent": "greet"}\n{"text": "bye"}\n', encoding="utf-8")
    with pytest.raises(nlu.BadTrainingData, match=r"line 2: \"intent\" must be a non-empty string"):
        read_intent_file(p)
    s = tmp_path / "s.jsonl"
    s.write_text('{"text": "meh", "sentiment": "angry"}\n', encoding="utf-8")
    from nlu.data import read_sentiment_file

    with pytest.raises(nlu.BadTrainingData, match=r"line 1: sentiment 'angry' is not one of negative, neutral"):
        read_sentiment_file(s)


def test_the_demo_data_is_complete() -> None:
    """Every intent of the demo's data is one the domain answers or the engine reads, in both
    languages, with 25+ examples; and the domain covers 30+ customer topics."""
    from bots.dialogue.domain import load_domain
    from bots.settings import load_settings
    from tests.nlu.conftest import AIRLINE_DATA

    domain = load_domain(load_settings(Path(__file__).parents[2] / "config.yaml", env={}))
    engine_reads = {"affirm", "deny", "human_handoff", "abort", "inform", "out_of_scope"}
    topics = {i for f in domain.flows.values() for i in f.intents} | (set(domain.faq) - {"greet", "goodbye", "thanks"})
    assert len(topics) >= 30, sorted(topics)
    expected = topics | engine_reads | {"greet", "goodbye", "thanks"}
    for lang in ("en", "fr"):
        ex = load_examples(AIRLINE_DATA, lang)
        counts = {i: sum(e.label == i for e in ex) for i in expected}
        assert set(counts) == {e.label for e in ex}
        assert min(counts.values()) >= 25, (lang, counts)


def test_needs_training_without_a_seed_uses_the_trained_one(tiny_data: Path, tmp_path: Path) -> None:
    nlu.train(tiny_data, tmp_path / "m", ["en"], seed=7)
    assert not nlu.needs_training(tiny_data, tmp_path / "m", ["en"])
    assert not nlu.needs_training(tiny_data, tmp_path / "m", ["en"], seed=7)
    assert nlu.needs_training(tiny_data, tmp_path / "m", ["en"], seed=8)

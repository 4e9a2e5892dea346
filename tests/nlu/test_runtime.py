"""The runtime call: parse / parse_batch on the demo airline NLU, language stickiness, errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import nlu
from nlu.langid import LanguageIdentifier
from tests.nlu.conftest import ctx


def test_parse_gives_language_intent_entities_and_sentiment(airline: nlu.NLU) -> None:
    r = airline.parse("Is flight NM1234 on time tomorrow?", context=ctx("en"))
    assert r.language == "en"
    assert r.intent == "flight_status"
    assert 0.5 < r.confidence <= 1.0
    assert r.ranking[0].name == "flight_status" and len(r.ranking) <= 10
    assert [(e.type, e.value) for e in r.entities] == [("flight_number", "NM1234"), ("date", "2026-11-29")]
    assert r.sentiment.label in ("negative", "neutral", "positive") and -1 <= r.sentiment.score <= 1
    assert r.to_dict()["intent"] == "flight_status"


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("je voudrais changer de siège pour le 14C", "fr", "change_seat"),
        ("I want to talk to a real person", "en", "human_handoff"),
        ("what's the weather like in Rome today", "en", "out_of_scope"),
        ("raconte-moi une blague", "fr", "out_of_scope"),
        ("how much luggage can I take", "en", "baggage_info"),
        ("je veux annuler ma réservation", "fr", "cancel_booking"),
    ],
)
def test_demo_intents_in_both_languages(airline: nlu.NLU, text: str, language: str, intent: str) -> None:
    r = airline.parse(text, context=ctx(None))
    assert (r.language, r.intent) == (language, intent)


def test_short_messages_keep_the_conversation_language(airline: nlu.NLU) -> None:
    for text in ("ok", "merci", "👍", "14C", "X7K9QZ", "Dupont"):
        assert airline.parse(text, context=ctx("en")).language == "en", text
    for text in ("ok", "thanks", "👍", "yes"):
        assert airline.parse(text, context=ctx("fr")).language == "fr", text


def test_a_confident_different_language_switches(airline: nlu.NLU) -> None:
    r = airline.parse("bonjour, je voudrais savoir si mon vol de demain est à l'heure", context=ctx("en"))
    assert r.language == "fr"
    r = airline.parse("hello, I would like to know if my flight tomorrow is on time", context=ctx("fr"))
    assert r.language == "en"


def test_short_messages_without_a_conversation_language_use_the_lexicon() -> None:
    ident = LanguageIdentifier(["en", "fr"], "en")
    assert ident.identify("merci") == "fr"
    assert ident.identify("thanks") == "en"
    assert ident.identify("🙂") == "en"  # nothing to go on: the default
    assert ident.identify("merci", sticky="en") == "en"


def test_language_hint_acts_when_the_conversation_has_no_language(airline: nlu.NLU) -> None:
    assert airline.parse("ok", language_hint="fr", context=ctx(None)).language == "fr"


def test_parse_batch_equals_parse(airline: nlu.NLU) -> None:
    texts = ["is NM802 delayed?", "je veux le siège 3F", "thanks a lot!", "laisse tomber", "tell me a joke"]
    single = [airline.parse(t, context=ctx("en")) for t in texts]
    batch = airline.parse_batch(texts, context=ctx("en"))
    assert [(r.language, r.intent, r.entities) for r in batch] == [(r.language, r.intent, r.entities) for r in single]
    for a, b in zip(batch, single, strict=True):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
        assert a.sentiment.score == pytest.approx(b.sentiment.score, abs=1e-3)


def test_parse_is_deterministic_and_thread_safe(airline: nlu.NLU) -> None:
    texts = ["is my flight on time", "changer de siège", "I want a refund, still waiting!", "demain à 14h"] * 25
    expected = [airline.parse(t, context=ctx("en")).to_dict() for t in texts]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: airline.parse(t, context=ctx("en")).to_dict(), texts))
    assert got == expected


def test_loading_an_untrained_model_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(nlu.NotTrained, match=r"'en'.*run `brandbot nlu train`"):
        nlu.NLU.load(tmp_path, ["en"], "en")


def test_default_language_must_be_configured(airline_models: Path) -> None:
    with pytest.raises(nlu.UnknownLanguage, match=r"'de'.*en, fr"):
        nlu.NLU.load(airline_models, ["en", "fr"], "de")


def test_empty_text_is_out_of_scope(airline: nlu.NLU) -> None:
    r = airline.parse("", context=ctx("fr"))
    assert r.language == "fr" and r.intent == "out_of_scope"


def test_a_short_message_in_another_language_is_understood_without_switching(airline: nlu.NLU) -> None:
    r = airline.parse("merci", context=ctx("en"))
    assert (r.language, r.intent) == ("en", "thanks")
    r = airline.parse("laisse tomber", context=ctx("en"))
    assert (r.language, r.intent) == ("en", "abort")
    r = airline.parse("forget it", context=ctx("fr"))
    assert (r.language, r.intent) == ("fr", "abort")


def test_nlu_never_imports_bots_nor_connectors() -> None:
    import subprocess
    import sys

    code = (
        "import sys, nlu, nlu.evaluation, nlu.pipeline; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('bots', 'connectors')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

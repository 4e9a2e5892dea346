"""The consent / opt-out / erasure phrases: data read from a file, matched with typos tolerated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.dialogue.feedback import score_in
from bots.dialogue.phrases import PhraseMatcher, load_privacy_file
from bots.errors import ConfigError


@pytest.fixture(scope="module")
def matcher() -> PhraseMatcher:
    return PhraseMatcher(load_privacy_file().phrases)


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [
        ("I agree to share feedback", "grant", "en"),
        ("you can use my feedback", "grant", "en"),
        ("J'accepte", "grant", "fr"),
        ("jaccepte", "grant", "fr"),
        ("j’accepte de partager mes avis", "grant", "fr"),
        ("Stop analysing my messages!", "withdraw", "en"),
        ("please stop analyzing my mesages, thanks", "withdraw", "en"),
        ("don't use my messages", "withdraw", "en"),
        ("you can't use my feedback", "withdraw", "en"),
        ("je refuse", "withdraw", "fr"),
        ("N'analysez plus mes messages svp", "withdraw", "fr"),
        ("stop messaging me", "opt_out", "en"),
        ("UNSUBSCRIBE", "opt_out", "en"),
        ("ne m'ecrivez plus", "opt_out", "fr"),
        ("désabonnez-moi", "opt_out", "fr"),
        ("delete my data", "erase", "en"),
        ("please delete all my data", "erase", "en"),
        ("supprimer mes données", "erase", "fr"),
        ("supprimez mes donnees svp", "erase", "fr"),
    ],
)
def test_phrases_match_in_english_and_french_with_typos(matcher, text, kind, language) -> None:
    assert matcher.find(text) == (kind, language)


@pytest.mark.parametrize(
    "text",
    [
        "je refuse de payer ce supplément",  # a short phrase must be the whole message
        "I agree to pay the fee",
        "I don't agree",
        "stop",  # a cancel word, not an opt-out
        "Can I delete my booking?",
        "what is the status of my booking",
        "yes",
        "",
    ],
)
def test_other_messages_match_no_privacy_phrase(matcher, text) -> None:
    assert matcher.match(text, ("erase", "opt_out", "withdraw", "grant")) is None


def test_a_phrases_file_is_validated_and_named_in_the_error(tmp_path: Path) -> None:
    bad = tmp_path / "phrases.yml"
    bad.write_text("phrases:\n  unsubscribe_me: {en: [bye]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"phrases\.yml"):
        load_privacy_file(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_privacy_file(tmp_path / "missing.yml")


@pytest.mark.parametrize(
    ("text", "low", "high", "score"),
    [("4", 1, 5, 4), ("4/5", 1, 5, 4), ("5 stars", 1, 5, 5), ("8 sur 10", 0, 10, 8), ("0", 0, 10, 0)],
)
def test_scores_are_read_from_short_answers(text, low, high, score) -> None:
    assert score_in(text, low, high) == score


@pytest.mark.parametrize("text", ["6", "4 or 5", "my booking X7K9QZ has 2 bags", "", "zero"])
def test_anything_else_is_not_a_score(text) -> None:
    assert score_in(text, 1, 5) is None

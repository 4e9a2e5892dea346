from __future__ import annotations

from bots.insights.phrases import phrase_stats, phrases_of, rank_phrases


def test_phrases_drop_stop_words_and_redaction_tokens_in_english_and_french() -> None:
    assert phrases_of("My bag is LOST, call [PHONE] or [EMAIL]") == {"bag", "lost", "call"}
    assert phrases_of("lost bag again") == {"lost", "bag", "lost bag"}  # "again": a stop word
    assert phrases_of("Le vol est retardé, j'attends l'avion") == {
        "vol",
        "retardé",
        "attends",
        "avion",
    }
    assert phrases_of("remboursement refusé") == {"remboursement", "refusé", "remboursement refusé"}
    assert phrases_of("42 !!") == set()


def test_ranking_needs_three_messages_and_one_negative() -> None:
    stats = phrase_stats([("seat broken", 2, 2), ("seat ok", 1, 0), ("wifi down", 2, 2), ("hello", 9, 0)])
    ranked = [(p, s.count, s.negative, s.examples) for p, s in rank_phrases(stats)]
    assert ranked == [("seat", 3, 2, ["seat broken"])]
    assert stats["hello"].negative_share == 0.0

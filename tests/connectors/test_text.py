"""Pure text helpers: splitting on natural boundaries, numbered options."""

from __future__ import annotations

import pytest

from connectors._text import match_option, render_numbered, split_text
from connectors.base import QuickReply


def test_short_text_is_one_chunk():
    assert split_text("  Hello there.  ", 20) == ["Hello there."]
    assert split_text("", 20) == []


def test_paragraph_then_sentence_then_word_boundaries():
    assert split_text("First paragraph here.\n\nSecond one.", 25) == ["First paragraph here.", "Second one."]
    assert split_text("One sentence. Another sentence follows.", 30) == ["One sentence.", "Another sentence follows."]
    assert split_text("alpha beta gamma delta", 11) == ["alpha beta", "gamma delta"]


def test_a_word_longer_than_the_limit_is_cut_hard():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        split_text("hi", 0)


def test_numbered_options_and_answers():
    opts = [QuickReply("Window", "w"), QuickReply("Aisle", "a")]
    assert render_numbered("Seat?", opts) == "Seat?\n\n1. Window\n2. Aisle"
    assert render_numbered("Seat?", []) == "Seat?"
    # a rating's options titled by their own number are not listed as "1. 1": the question says it
    stars = [QuickReply(str(n), f'/csat{{"score":{n}}}') for n in range(1, 6)]
    assert render_numbered("How would you rate us, from 1 to 5?", stars) == "How would you rate us, from 1 to 5?"
    assert render_numbered("Pick", [QuickReply("2", "a"), QuickReply("1", "b")]) == "Pick\n\n1. 2\n2. 1"
    assert match_option("2", opts).payload == "a"
    assert match_option(" 1. ", opts).payload == "w"
    assert match_option("1)", opts).payload == "w"
    assert match_option("aisle", opts).payload == "a"
    assert match_option("3", opts) is None
    assert match_option("0", opts) is None
    assert match_option("1 please", opts) is None

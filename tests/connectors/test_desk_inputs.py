"""What an agent types in the desk (reply, note, search) goes through the same door as a customer's text."""

from __future__ import annotations

import pytest

from bots.desk.errors import InvalidInput
from bots.desk.inputs import MAX_REPLY, clean_text


def test_controls_are_removed_and_the_text_normalised() -> None:
    assert clean_text("  Your seat is 12A\x07\x1b.\r\nSafe cafe\u0301 \x85 ") == "Your seat is 12A.\nSafe café"


def test_a_text_that_is_only_controls_is_empty() -> None:
    with pytest.raises(InvalidInput, match="note is empty"):
        clean_text("\x07\x1b \r\n", "note")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("a\x00b", "text contains a NUL character"),  # refused, not dropped: the agent sees what was sent
        ("bad \ud800 half", r"text holds a lone surrogate \(U\+D800\)"),
        ("x" * (MAX_REPLY + 1), f"{MAX_REPLY + 1} characters long; at most {MAX_REPLY}"),
        (42, "text must be a string"),
    ],
)
def test_what_no_channel_can_carry_is_refused(value: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        clean_text(value)


def test_the_limit_counts_the_cleaned_text() -> None:
    assert clean_text("x" * MAX_REPLY + "\x07" * 10) == "x" * MAX_REPLY

"""``clean_text``: the one check every free text goes through at the door."""

from __future__ import annotations

import unicodedata

import pytest

from connectors.errors import BadInput, MalformedRequest
from connectors.input_text import clean_text


def test_plain_text_is_kept_as_is_with_its_whitespace() -> None:
    assert clean_text("  Hello,\tworld!\r\n", field="text", max_chars=100) == "  Hello,\tworld!\r\n"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),  # PostgreSQL text cannot hold NUL
        ("\x00\x00", ""),
        ("bell\x07 esc\x1b[31m red", "bell esc[31m red"),
        ("del\x7f c1\x85\x9f", "del c1"),
        ("tab\tline\nreturn\r", "tab\tline\nreturn\r"),  # kept
    ],
)
def test_nul_and_control_characters_are_removed(raw: str, clean: str) -> None:
    assert clean_text(raw, field="text", max_chars=100) == clean


def test_text_is_normalised_to_nfc() -> None:
    decomposed = "cafe\u0301 Å"  # e + combining acute, A + combining ring
    got = clean_text(decomposed, field="text", max_chars=100)
    assert got == "café Å" and unicodedata.is_normalized("NFC", got)
    assert len(got) == 6


def test_emoji_and_other_astral_characters_are_kept() -> None:
    assert clean_text("✈️ 🧳 𝄞", field="text", max_chars=10) == "✈️ 🧳 𝄞"


@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "a\udc80b"])
def test_a_lone_surrogate_is_refused_naming_field_and_position(surrogate: str) -> None:
    with pytest.raises(BadInput, match=r"lone surrogate \(U\+D[89A-F][0-9A-F]{2}\) at position \d") as info:
        clean_text(surrogate, field="message.text", max_chars=100)
    assert info.value.field == "message.text"
    assert isinstance(info.value, MalformedRequest)  # webhooks answer it 400
    assert "\ud800" not in str(info.value) and "\udc80" not in str(info.value)  # the reason can be encoded


def test_the_cap_applies_after_cleaning_and_names_the_field() -> None:
    assert clean_text("x" * 10 + "\x00" * 5, field="Body", max_chars=10) == "x" * 10
    with pytest.raises(BadInput, match="Body is 11 characters long; the limit is 10") as info:
        clean_text("x" * 11, field="Body", max_chars=10)
    assert (info.value.field, info.value.reason) == ("Body", "is 11 characters long; the limit is 10")


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["a"], {"a": 1}])
def test_a_non_string_is_refused(value: object) -> None:
    with pytest.raises(BadInput, match="must be a string"):
        clean_text(value, field="text", max_chars=10)


def test_required_refuses_what_is_empty_once_cleaned() -> None:
    assert clean_text("", field="text", max_chars=10) == ""
    with pytest.raises(BadInput, match="text is empty"):
        clean_text(" \x00\n ", field="text", max_chars=10, required=True)

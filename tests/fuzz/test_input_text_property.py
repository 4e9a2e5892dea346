"""Property-based tests (Hypothesis) of ``clean_text``, the check every free text goes through.

For any string: either a clean text (no lone surrogate, no control character but tab and line
breaks, NFC, within the cap) or :class:`BadInput`, and BadInput only for a lone surrogate or a
text over the cap. Cleaning twice changes nothing. Deterministic (``derandomize``, no example
database); ``--hypothesis-show-statistics`` prints the number of generated inputs.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.errors import BadInput
from connectors.input_text import clean_text

#: what clean_text must handle: controls, surrogates, combining marks, characters NFC expands...
SPECIALS = [
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\t",
    "\n",
    "\r",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\udfff",
    "\udc80",
    "e\u0301",
    "\u0301",
    "A\u030a",
    "\u0958",  # NFC: two characters
    "\ufb2c",  # NFC: three characters
    "\U0001f9f3",
    "\u200d",
]

#: any code point, surrogates included, with the special ones over-represented.
ANY_CHAR = st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs", "Cc", "Mn"]))
ANY_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(ANY_CHAR, max_size=3)), max_size=30).map("".join),
)
KEEP_CONTROLS = {"\t", "\n", "\r"}

FUZZ = settings(
    max_examples=1500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_clean(text: str, max_chars: int) -> None:
    """What every text that passed the door looks like."""
    assert isinstance(text, str)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), "lone surrogate kept"
    assert not any(unicodedata.category(c) == "Cc" and c not in KEEP_CONTROLS for c in text), "control kept"
    assert unicodedata.is_normalized("NFC", text), "not NFC"
    assert len(text) <= max_chars
    text.encode("utf-8")  # storable anywhere: Redis, SQLite, PostgreSQL text


@FUZZ
@given(value=ANY_TEXT, max_chars=st.integers(0, 120), required=st.booleans())
def test_clean_text_gives_clean_text_or_bad_input(value: str, max_chars: int, required: bool) -> None:
    try:
        got = clean_text(value, field="text", max_chars=max_chars, required=required)
    except BadInput as exc:
        assert exc.field == "text"
        has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        assert has_surrogate or "limit" in exc.reason or (required and exc.reason == "is empty"), exc.reason
        str(exc).encode("utf-8")  # the reason itself can be sent back in a 400
        return
    assert_clean(got, max_chars)
    assert not required or got.strip()
    assert clean_text(got, field="text", max_chars=max_chars) == got, "cleaning twice changes something"


@FUZZ
@given(value=ANY_TEXT)
def test_only_a_surrogate_or_the_cap_refuses_a_text(value: str) -> None:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return
    got = clean_text(value, field="text", max_chars=10 * len(value) + 10)  # NFC can lengthen a text, never 10x
    assert_clean(got, 10 * len(value) + 10)
    # what is removed is only controls: the rest, normalised, is all there
    kept = "".join(c for c in value if not (unicodedata.category(c) == "Cc" and c not in KEEP_CONTROLS))
    assert got == unicodedata.normalize("NFC", kept)


@FUZZ
@given(value=st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=10), st.lists(st.text(max_size=3))))
def test_anything_but_a_string_is_bad_input(value: object) -> None:
    try:
        clean_text(value, field="text", max_chars=100)
    except BadInput as exc:
        assert "must be a string" in exc.reason
    else:
        raise AssertionError(f"{value!r} accepted")

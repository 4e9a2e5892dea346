"""Property-based tests (Hypothesis) of the NLU: any text that passes the door gets a valid result.

The demo airline model (``demo_nlu_dir``, trained once per session and shared with the other
tests) parses arbitrary Unicode text, cleaned by ``clean_text`` as every channel does: the
result is always well-formed (a known language and intent, confidences in [0, 1], entity spans
inside the text, JSON-serialisable) and parse never raises. Deterministic (``derandomize``, no
example database); ``--hypothesis-show-statistics`` prints the number of generated inputs.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import nlu
from connectors.errors import BadInput
from connectors.input_text import clean_text
from nlu.errors import UnreadableText
from nlu.result import OUT_OF_SCOPE, NLUResult, ParseContext

from .test_input_text_property import ANY_TEXT

LANGUAGES = ["en", "fr"]
#: the demo's training data (``nlu.data_dir`` of config.yaml, what ``demo_nlu_dir`` is trained on).
DATA = Path(__file__).resolve().parents[2] / "bots" / "airline" / "nlu"
INTENTS = {
    name for lang in LANGUAGES for name in yaml.safe_load((DATA / f"{lang}.yml").read_text(encoding="utf-8"))["intents"]
} | {OUT_OF_SCOPE}
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: messages a customer could write: airline words, entities, other scripts, odd spacing.
WORDS = st.sampled_from(
    [
        "seat",
        "siège",
        "KL1234",
        "NM 1234",
        "X7K9QZ",
        "14C",
        "tomorrow",
        "demain",
        "12/03",
        "10:15",
        "€12.50",
        "hublot",
        "flight",
        "vol",
        "???",
        "🙂",
        "ДА",
        "航班",
        "   ",
        "\n",
        "0" * 40,
        "é" * 3,
        "\u0301",
    ]
)
MESSAGES = st.one_of(
    ANY_TEXT,
    st.lists(st.one_of(WORDS, ANY_TEXT), max_size=12).map(" ".join),
    st.integers(500, 4096).map("change my seat ".__mul__).map(lambda s: s[:4096]),
)


@pytest.fixture(scope="module")
def model(demo_nlu_dir: Path) -> nlu.NLU:
    return nlu.NLU.load(demo_nlu_dir, LANGUAGES, "en")


def assert_valid(result: NLUResult, text: str) -> None:
    assert isinstance(result, NLUResult)
    assert result.language in LANGUAGES
    assert result.intent in INTENTS, result.intent
    assert 0.0 <= result.confidence <= 1.0 and math.isfinite(result.confidence)
    for score in result.ranking:
        assert score.name in INTENTS
        assert 0.0 <= score.confidence <= 1.0
    for entity in result.entities:
        assert 0 <= entity.start <= entity.end <= len(text)
    assert -1.0 <= result.sentiment.score <= 1.0
    json.dumps(result.to_dict(), allow_nan=False)


@FUZZ
@given(raw=MESSAGES, language=st.sampled_from([None, "en", "fr"]), hint=st.sampled_from([None, "en", "fr", "xx"]))
def test_nlu_parse_of_any_text_the_door_lets_in_is_a_valid_result(
    model: nlu.NLU, raw: str, language: str | None, hint: str | None
) -> None:
    try:
        text = clean_text(raw, field="text", max_chars=4096)
    except BadInput:
        assume(False)  # refused at the door (lone surrogate): never reaches the NLU
        return
    event(f"text of {'0' if not text.strip() else '1-40' if len(text) <= 40 else '41+'} characters")
    context = ParseContext(now=NOW, timezone="Europe/Paris", language=language)
    result = model.parse(text, language_hint=hint, context=context)
    assert_valid(result, text)
    event(f"intent {'out_of_scope' if result.is_out_of_scope else 'in scope'}")


def test_nlu_parse_of_a_lone_surrogate_is_a_clear_error(model: nlu.NLU) -> None:
    """Channels refuse them at the door; `brandbot nlu parse` may get one from a non-UTF-8 argv."""
    with pytest.raises(UnreadableText, match=r"lone surrogate \(U\+DCFF\) at position 15"):
        model.parse("change my seat \udcff")
    with pytest.raises(UnreadableText):
        model.parse_batch(["fine", "not \ud800 fine"])

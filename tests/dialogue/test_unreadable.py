"""Messages the bot cannot read: the pure helpers, the replies and the engine's turn."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bots.dialogue.engine import Engine
from bots.dialogue.state import CONFIRM, DialogueState, FlowState
from bots.dialogue.unreadable import (
    LANGUAGE_UNSUPPORTED,
    Unreadable,
    is_reaction,
    media_key,
    media_kind,
    only_emoji,
    only_punctuation,
)
from bots.settings.dialogue import Response
from connectors.base import Attachment

from .conftest import inbound
from .test_engine import DOMAIN_SPEC, nlu


@pytest.fixture
def engine() -> Engine:
    return Engine(DOMAIN_SPEC, ["en", "fr"], "en", fallback_threshold=0.5)


def test_media_kind_is_the_first_attachment_of_a_message_without_text() -> None:
    sticker = replace(inbound(""), attachments=(Attachment("sticker", file_id="f"),))
    assert media_kind(sticker) == "sticker"
    assert media_kind(replace(sticker, text="my boarding pass")) is None  # the caption is the text
    assert media_kind(replace(sticker, kind="edit")) is None
    assert media_kind(inbound("hello")) is None


def test_media_key_falls_back_to_document_for_an_unknown_kind() -> None:
    assert media_key("audio") == "media_audio"
    assert media_key("hologram") == "media_document"


def test_reaction_is_an_event_of_kind_reaction() -> None:
    assert is_reaction(replace(inbound("👍", kind="event"), event="reaction"))
    assert not is_reaction(replace(inbound("", kind="event"), event="opt_out"))
    assert not is_reaction(inbound("👍"))


@pytest.mark.parametrize("text", ["?", "??", " ? ", "...", "…", "?!", "¿?"])
def test_lone_punctuation(text: str) -> None:
    assert only_punctuation(text)


@pytest.mark.parametrize("text", ["", "ok?", "14C?", "what?", "👍"])
def test_not_lone_punctuation(text: str) -> None:
    assert not only_punctuation(text)


@pytest.mark.parametrize("text", ["👍", "❤️", "👍🏽", "🙏 🙏", "👨‍👩‍👧"])
def test_emoji_alone(text: str) -> None:
    assert only_emoji(text)


@pytest.mark.parametrize("text", ["", "ok 👍", "?", "15C", "merci ❤️"])
def test_not_emoji_alone(text: str) -> None:
    assert not only_emoji(text)


def test_languages_reply_names_every_language_in_each_own_language_first() -> None:
    reply = Unreadable({}, ("en", "fr"), "en").languages_reply()
    assert reply.text == "Sorry, I only speak English and French.\nDésolé, je ne parle que français et anglais."
    assert reply.key == LANGUAGE_UNSUPPORTED


def test_a_brand_response_replaces_the_default() -> None:
    mine = Response(text={"en": "Stickers are lovely, words are better.", "fr": "Joli !"})
    u = Unreadable({"media_sticker": mine}, ("en", "fr"), "en")
    assert u.reply("media_sticker", "en").text == "Stickers are lovely, words are better."
    assert "can't listen" in u.reply("media_audio", "en").text


def test_three_languages_are_listed_with_commas() -> None:
    text = Unreadable({}, ("en", "fr", "de"), "en").languages_reply().text
    assert text.splitlines()[0] == "Sorry, I only speak English, French and German."
    assert text.splitlines()[2] == "Entschuldigung, ich spreche nur Deutsch, Englisch und Französisch."


def test_cannot_read_answers_once_and_asks_the_open_question_again(engine: Engine) -> None:
    st = engine.turn(DialogueState.fresh("c"), nlu("change my seat on X7K9QZ", "change_seat")).state
    assert st.flow is not None
    before = st.flow.awaiting
    out = engine.cannot_read(st, nlu("", "out_of_scope", 0.0), "media_sticker")
    prompt = next(s.prompt for s in DOMAIN_SPEC.flows["change_seat"].slots if s.name == before)
    assert [r.key for r in out.replies] == ["media_sticker", prompt]
    assert out.state.flow.awaiting == before and out.state.turns == st.turns + 1
    assert {"type": "unreadable", "what": "media_sticker"} in out.events


def test_cannot_read_is_silent_while_a_person_has_the_conversation(engine: Engine) -> None:
    for mode in ("waiting", "human"):
        st = DialogueState.fresh("c")
        st.mode = mode
        out = engine.cannot_read(st, nlu("", "out_of_scope", 0.0), "media_audio")
        assert out.replies == [] and out.mode_request is None and out.state.turns == 1


def test_cannot_read_keeps_the_conversation_language(engine: Engine) -> None:
    st = DialogueState.fresh("c")
    st.language = "fr"
    out = engine.cannot_read(
        st, nlu("Ich brauche Hilfe mit meinem Flug", "out_of_scope", 0.1, lang="en"), LANGUAGE_UNSUPPORTED
    )
    assert out.state.language == "fr"
    assert "je ne parle que" in out.replies[0].text.lower()


def test_a_lone_question_mark_at_a_confirmation_asks_the_confirmation_again(engine: Engine) -> None:
    st = DialogueState.fresh("c")
    st.flow = FlowState("change_seat", slots={"booking_ref": "X7K9QZ", "seat": "15C"}, awaiting=CONFIRM, checked=True)
    out = engine.turn(st, nlu("?", "booking_status", 0.9))
    assert out.action is None and out.state.flow is not None and out.state.flow.awaiting == CONFIRM
    assert out.replies and "15C" in out.replies[0].text


def test_a_lone_question_mark_never_runs_the_intent_the_nlu_saw(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("?", "booking_status", 0.99))
    assert out.state.flow is None and [r.key for r in out.replies] == ["how_can_i_help"]


def test_an_emoji_alone_in_a_flow_is_left_to_the_flow(engine: Engine) -> None:
    st = DialogueState.fresh("c")
    st.flow = FlowState("change_seat", slots={"booking_ref": "X7K9QZ", "seat": "15C"}, awaiting=CONFIRM, checked=True)
    out = engine.turn(st, nlu("👍", "affirm", 0.9))
    assert out.action is not None and out.action.phase == "run"  # the yes it means

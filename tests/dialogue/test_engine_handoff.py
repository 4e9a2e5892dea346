"""Handoff in the pure policy: each trigger, each mode, availability (no Redis, no SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.dialogue.actions import ActionResult
from bots.dialogue.engine import OFFER_MESSAGE, TAKE_MESSAGE, Engine, ModeRequest
from bots.dialogue.state import DialogueState, Mode
from bots.handoff.queue import Availability
from bots.settings.handoff import HandoffTriggers
from nlu.result import NLUResult, Sentiment

from .test_engine import DOMAIN_SPEC, nlu

PARIS = ZoneInfo("Europe/Paris")
CLOSED = Availability(
    open_now=False,
    agents_online=0,
    position=0,
    expected_wait_minutes=0,
    back_at=datetime(2026, 3, 3, 8, 0, tzinfo=PARIS),
    staffed=False,
    now=datetime(2026, 3, 2, 21, 0, tzinfo=PARIS),
)
BUSY = Availability(position=4, expected_wait_minutes=16)


def make(**triggers: Any) -> Engine:
    return Engine(DOMAIN_SPEC, ["en", "fr"], "en", fallback_threshold=0.5, triggers=HandoffTriggers(**triggers))


def said(text: str, score: float, intent: str = "out_of_scope", confidence: float = 0.3) -> NLUResult:
    return NLUResult(text, "en", intent, confidence, (), (), Sentiment(score, "negative" if score < 0 else "neutral"))


def st(mode: Mode = "bot", lang: str = "en") -> DialogueState:
    s = DialogueState.fresh("c", lang)
    s.mode = mode
    return s


# ---- triggers -------------------------------------------------------------------
def test_asking_for_a_person_requests_waiting_with_place_and_wait() -> None:
    out = make().turn(st(), nlu("I want a human", "human_handoff"), BUSY)
    assert out.mode_request == ModeRequest("waiting", "human_request", "customer")
    assert out.state.mode == "bot"  # never set by the engine
    text = out.replies[-1].text
    assert "number 4 in the queue" in text and "about 15 minutes" in text
    assert {"type": "handoff_requested", "reason": "human_request", "position": 4} in out.events


def test_asking_in_french_words_the_wait_in_french() -> None:
    out = make().turn(st(lang="fr"), nlu("je veux un conseiller", "human_handoff", lang="fr"), BUSY)
    assert "en position 4" in out.replies[-1].text and "environ 15 minutes" in out.replies[-1].text


def test_human_request_switched_off_is_not_a_handoff() -> None:
    out = make(human_request=False).turn(st(), nlu("I want a human", "human_handoff"))
    assert out.mode_request is None and out.replies[-1].key == "anything_else"


def test_misses_setting_sets_when_a_person_is_offered() -> None:
    e = make(misses=3)
    out = e.turn(st(), nlu("blorp", "out_of_scope", 0.3))
    out = e.turn(out.state, nlu("blorp", "out_of_scope", 0.3))
    assert out.replies[0].key == "fallback_rephrase" and out.state.pending is None
    out = e.turn(out.state, nlu("blorp", "out_of_scope", 0.3))
    assert out.replies[0].key == "offer_human" and out.state.pending == "offer_human:misses"
    out = e.turn(out.state, nlu("yes", "affirm"))
    assert out.mode_request == ModeRequest("waiting", "misses")


def test_misses_zero_never_offers() -> None:
    e = make(misses=0)
    s = st()
    for _ in range(4):
        out = e.turn(s, nlu("blorp", "out_of_scope", 0.3))
        s = out.state
        assert out.replies[0].key == "fallback_rephrase"


def _history(*scores: float) -> DialogueState:
    s = st()
    s.history = [
        {"id": str(i), "user": "x", "intent": "greet", "sentiment": v, "bot": []} for i, v in enumerate(scores)
    ]
    return s


def test_turning_negative_over_the_last_messages_offers_a_person() -> None:
    e = make(negative_messages=3, negative_threshold=-0.5)
    out = e.turn(_history(0.1, -0.8), said("this is useless", -0.9, "baggage_info", 0.9))
    assert out.replies[0].key == "faq:baggage_info"  # the question is still answered
    assert out.replies[-1].key == "handoff_offer" and out.state.pending == "offer_human:negative_sentiment"
    assert [b[1] for b in out.replies[-1].buttons] == ["/human_handoff", "/deny"]
    out = e.turn(out.state, nlu("yes", "affirm"))
    assert out.mode_request == ModeRequest("waiting", "negative_sentiment")


def test_negative_sentiment_is_offered_once_not_at_every_message() -> None:
    e = make(negative_messages=2, negative_threshold=-0.5)
    out = e.turn(_history(-0.9, -0.9), said("still useless", -0.9, "baggage_info", 0.9))
    assert out.state.pending is None and out.replies[-1].key == "faq:baggage_info"


def test_negative_sentiment_needs_enough_messages_and_can_be_off() -> None:
    assert make(negative_messages=3).turn(_history(-1.0), said("awful", -1.0, "greet", 0.9)).state.pending is None
    assert make(negative_messages=0).turn(_history(-1.0, -1.0), said("awful", -1.0, "greet", 0.9)).state.pending is None


def test_a_configured_intent_offers_a_person() -> None:
    e = make(intents=("baggage_info",))
    out = e.turn(st(), nlu("baggage?", "baggage_info"))
    assert out.replies[-1].key == "handoff_offer" and out.state.pending == "offer_human:intent:baggage_info"
    out = e.turn(out.state, nlu("no", "deny"))
    assert out.mode_request is None and out.replies[0].key == "handoff_declined"


def test_the_complaint_faq_offer_is_not_doubled() -> None:
    out = make().turn(st(), nlu("disgrace", "complaint"))
    assert [r.key for r in out.replies] == ["faq:complaint"]
    assert out.state.pending == "offer_human:intent:complaint"


def _flight_status(e: Engine):
    return e.turn(st(), nlu("status NM780", "flight_status", entities={"flight_number": "NM780"}))


def test_an_action_asking_for_a_person_hands_over_after_its_response() -> None:
    e = make()
    out = _flight_status(e)
    out = e.resume(
        out,
        out.action,
        ActionResult(
            ok=True, response="flight_cancelled", handoff="flight_cancelled", values={"flight_number": "NM780"}
        ),
        BUSY,
    )
    assert [r.key for r in out.replies] == ["flight_cancelled", "handoff_waiting"]
    assert out.mode_request == ModeRequest("waiting", "action:flight_cancelled", "bot")
    assert out.state.flow is None


def test_an_action_handoff_is_ignored_when_from_actions_is_off() -> None:
    e = make(from_actions=False)
    out = _flight_status(e)
    out = e.resume(out, out.action, ActionResult(ok=True, response="flight_cancelled", handoff="flight_cancelled"))
    assert out.mode_request is None and out.state.pending == "offer_human:flight_cancelled"


# ---- not staffed -----------------------------------------------------------------
def test_outside_hours_says_when_staff_are_back_and_offers_a_message() -> None:
    e = make()
    out = e.turn(st(), nlu("I want a human", "human_handoff"), CLOSED)
    assert out.mode_request is None and out.state.pending == OFFER_MESSAGE
    assert "back tomorrow at 08:00" in out.replies[-1].text
    out = e.turn(out.state, nlu("yes", "affirm"))
    assert out.replies[-1].key == "handoff_ask_message" and out.state.pending == TAKE_MESSAGE
    out = e.turn(out.state, nlu("please call me about my refund", "inform", 0.4))
    assert out.message_left and out.replies[-1].key == "handoff_left_message"
    assert out.state.pending is None and out.mode_request is None
    out = e.turn(out.state, nlu("baggage?", "baggage_info"))
    assert not out.message_left and out.replies[0].key == "faq:baggage_info"


def test_outside_hours_in_french() -> None:
    out = make().turn(st(lang="fr"), nlu("un conseiller", "human_handoff", lang="fr"), CLOSED)
    assert "de retour demain à 8h00" in out.replies[-1].text


def test_declining_to_leave_a_message_or_cancelling_it() -> None:
    e = make()
    out = e.turn(st(), nlu("I want a human", "human_handoff"), CLOSED)
    assert e.turn(out.state, nlu("no", "deny")).replies[-1].key == "anything_else"
    out = e.turn(out.state, nlu("yes", "affirm"))
    out = e.turn(out.state, nlu("cancel", "abort"))
    assert not out.message_left and out.state.pending is None


def test_a_new_request_instead_of_answering_the_message_offer_is_served() -> None:
    e = make()
    out = e.turn(st(), nlu("I want a human", "human_handoff"), CLOSED)
    out = e.turn(out.state, nlu("baggage?", "baggage_info"))
    assert out.replies[0].key == "faq:baggage_info" and out.state.pending is None


def test_needs_availability_only_when_a_handoff_may_happen() -> None:
    e = make()
    assert e.needs_availability(st(), nlu("I want a human", "human_handoff"))
    assert not e.needs_availability(st(), nlu("baggage?", "baggage_info"))
    assert not e.needs_availability(st("waiting"), nlu("I want a human", "human_handoff"))
    offered = st()
    offered.pending = "offer_human:misses"
    assert e.needs_availability(offered, nlu("yes", "affirm"))
    assert not make(human_request=False).needs_availability(st(), nlu("I want a human", "human_handoff"))


# ---- modes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,intent",
    [
        ("cancel", "abort"),
        ("back to the bot", "out_of_scope"),
        ("annuler", "abort"),
        ("never mind", "abort"),
        ("forget it then", "abort"),
    ],
)
def test_waiting_customer_can_go_back_to_the_bot(text: str, intent: str) -> None:
    out = make().turn(st("waiting"), nlu(text, intent, 0.9))
    assert out.mode_request == ModeRequest("bot", "customer_cancel")
    assert out.replies[-1].key == "handoff_cancelled"


def test_a_long_message_to_the_agent_classified_abort_does_not_leave_the_queue() -> None:
    out = make().turn(st("waiting"), nlu("stop charging me twice for the same bag, I want the money back now", "abort"))
    assert out.mode_request is None and out.replies == []


def test_human_mode_never_answers_even_cancel() -> None:
    out = make().turn(st("human"), nlu("cancel", "abort"))
    assert out.mode_request is None and out.replies == []


def test_resolved_then_a_message_returns_to_the_bot_with_a_normal_turn() -> None:
    out = make().turn(st("resolved"), nlu("baggage?", "baggage_info"))
    assert out.mode_request == ModeRequest("bot", "customer_returned")
    assert out.replies[0].key == "faq:baggage_info"


def test_resolved_then_asking_for_a_person_again_goes_to_the_queue() -> None:
    out = make().turn(st("resolved"), nlu("human please", "human_handoff"))
    assert out.mode_request == ModeRequest("waiting", "human_request")


def test_describe_back_and_wait_words() -> None:
    from bots.handoff.hours import describe_back
    from bots.handoff.queue import describe_wait

    now = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    assert describe_back(datetime(2026, 3, 2, 22, 0, tzinfo=UTC), now, "en") == "today at 22:00"
    assert describe_back(datetime(2026, 3, 5, 8, 0, tzinfo=UTC), now, "en") == "on Thursday at 08:00"
    assert describe_back(datetime(2026, 3, 5, 8, 0, tzinfo=UTC), now, "fr") == "jeudi à 8h00"
    assert describe_back(datetime(2026, 3, 20, 9, 30, tzinfo=UTC), now, "fr") == "le 20 mars à 9h30"
    assert describe_back(None, now, "fr") == "bientôt"
    assert [describe_wait(m, "en") for m in (0.5, 4, 12, 33, 60, 95, 150)] == [
        "about a minute",
        "about 4 minutes",
        "about 10 minutes",
        "about 35 minutes",
        "about an hour",
        "about an hour and a half",
        "about 2 and a half hours",
    ]
    assert describe_wait(95, "fr") == "environ une heure et demie"

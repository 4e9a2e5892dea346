"""The pure policy: NLU results built by hand, no Redis, no SQL."""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.dialogue.actions import ActionContext, ActionRegistry, ActionResult, action, load_actions
from bots.dialogue.domain import check_domain
from bots.dialogue.engine import Engine, EngineOutput, ModeRequest
from bots.dialogue.errors import ActionNotFound, DomainError
from bots.dialogue.state import CONFIRM, DialogueState
from bots.settings.dialogue import DomainSpec
from nlu.result import Entity, IntentScore, NLUResult

from .conftest import DOMAIN, inbound

DOMAIN_SPEC = DomainSpec.model_validate(yaml.safe_load(DOMAIN.read_text(encoding="utf-8")))


def nlu(
    text: str,
    intent: str = "inform",
    confidence: float = 0.95,
    lang: str = "en",
    entities: dict[str, str] | None = None,
    ranking: list[tuple[str, float]] | None = None,
) -> NLUResult:
    ents = tuple(Entity(t, v, v, 0, len(v)) for t, v in (entities or {}).items())
    rank = tuple(IntentScore(n, c) for n, c in (ranking or [(intent, confidence)]))
    return NLUResult(text, lang, intent, confidence, rank, ents)


@pytest.fixture
def engine() -> Engine:
    return Engine(DOMAIN_SPEC, ["en", "fr"], "en", fallback_threshold=0.5)


def verified(engine: Engine, out: EngineOutput, surname: str = "Dupont") -> EngineOutput:
    """Answer the identity step's surname question and let the identity action say it matches."""
    assert out.action is None and out.replies[-1].key == "ask_surname", out.replies
    out = engine.turn(out.state, nlu(surname, "inform", 0.9))
    assert out.action is not None and out.action.phase == "verify"
    assert out.action.slots["surname"] == surname
    return engine.resume(out, out.action, ActionResult())


def test_turn_does_not_mutate_the_given_state(engine: Engine) -> None:
    st = DialogueState.fresh("c")
    out = engine.turn(st, nlu("change my seat", "change_seat"))
    assert st.flow is None and st.turns == 0
    assert out.state.flow.name == "change_seat" and out.state.turns == 1


def test_trigger_message_fills_every_slot_then_asks_the_check_action(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"), nlu("move me", "change_seat", entities={"seat": "14C", "booking_ref": "X7K9QZ"})
    )
    assert [r.key for r in out.replies] == ["ask_surname"]  # the identity step first, the seat kept
    assert out.state.flow.slots == {"booking_ref": "X7K9QZ", "seat": "14C"}
    out = verified(engine, out)
    assert out.replies == []  # nothing more said: no seat question
    assert out.action.name == "check_seat" and out.action.phase == "check"
    assert out.action.slots == {"booking_ref": "X7K9QZ", "seat": "14C", "surname": "Dupont"}


def test_check_ok_leads_to_confirmation_with_yes_no_buttons(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"), nlu("move", "change_seat", entities={"seat": "15C", "booking_ref": "X7K9QZ"})
    )
    out = verified(engine, out)
    assert out.action is not None
    out = engine.resume(out, out.action, ActionResult(slots={"current_seat": "14C", "passenger": "C D"}))
    assert out.state.flow.awaiting == CONFIRM
    assert "from seat 14C to seat 15C" in out.replies[-1].text
    assert [b[1] for b in out.replies[-1].buttons] == ["/affirm", "/deny"]


def test_action_error_apologises_offers_a_human_and_leaves_the_flow(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"), nlu("status X7K9QZ", "booking_status", entities={"booking_ref": "X7K9QZ"})
    )
    out = verified(engine, out)
    assert out.action is not None and out.action.name == "booking_status"
    out = engine.resume(out, out.action, ActionResult(ok=False, error="TimeoutError"))
    assert out.state.flow is None and out.state.pending == "offer_human:action_error"
    assert out.replies[-1].key == "action_error"
    assert {"type": "action_failed", "action": "booking_status", "error": "TimeoutError"} in out.events
    out2 = engine.turn(out.state, nlu("yes", "affirm"))
    assert out2.mode_request == ModeRequest("waiting", "action_error") and out2.replies[-1].key == "handoff_waiting"
    assert out2.state.mode == "bot"  # the engine asks; the runtime changes the mode


def test_low_confidence_suggests_top_intents_as_buttons(engine: Engine) -> None:
    msg = nlu(
        "hmm seat thing",
        "change_seat",
        0.3,
        ranking=[("change_seat", 0.3), ("greet", 0.2), ("booking_status", 0.1), ("out_of_scope", 0.05)],
    )
    out = engine.turn(DialogueState.fresh("c"), msg)
    assert out.replies[0].key == "fallback_rephrase"
    assert list(out.replies[0].buttons) == [("Change seat", "/change_seat"), ("My booking", "/booking_status")]
    out = engine.turn(out.state, nlu("blah", "out_of_scope", 0.9))
    assert out.replies[0].key == "offer_human" and out.state.pending == "offer_human:misses"


def test_language_is_sticky_for_short_messages_and_switches_on_a_confident_sentence(engine: Engine) -> None:
    st = engine.turn(DialogueState.fresh("c"), nlu("Hello there", "greet")).state
    assert st.language == "en"
    st = engine.turn(st, nlu("merci", "thanks", lang="fr")).state
    assert st.language == "en"
    out = engine.turn(st, nlu("je voudrais changer de siège", "change_seat", lang="fr"))
    assert out.state.language == "fr" and out.replies[0].text.startswith("Quel")


def test_unsupported_language_keeps_the_conversation_language(engine: Engine) -> None:
    st = engine.turn(DialogueState.fresh("c"), nlu("Bonjour à vous", "greet", lang="fr")).state
    out = engine.turn(st, nlu("Hallo wie geht es dir heute", "greet", lang="de"))
    assert out.state.language == "fr" and out.replies[0].text.startswith("Bonjour")


def test_human_and_waiting_modes_are_silent(engine: Engine) -> None:
    st = DialogueState.fresh("c", "en")
    st.mode = "human"
    assert engine.turn(st, nlu("hello", "greet")).replies == []
    assert engine.turn(st, nlu("cancel", "abort")).mode_request is None
    st.mode = "waiting"
    out = engine.turn(st, nlu("hello?", "greet"))
    assert out.replies == [] and out.mode_request is None


def test_lone_booking_reference_is_remembered_for_the_next_flow(engine: Engine) -> None:
    st = engine.turn(
        DialogueState.fresh("c"),
        nlu("X7K9QZ", "inform", 0.9, entities={"booking_ref": "X7K9QZ"}, ranking=[("inform", 0.9)]),
    ).state
    assert st.memory == {"booking_ref": "X7K9QZ"}
    out = engine.turn(st, nlu("change my seat", "change_seat"))
    # the reference is not asked again; the surname is (the reference alone is not verified)
    assert out.state.flow.slots == {"booking_ref": "X7K9QZ"} and out.replies[-1].key == "ask_surname"
    out = verified(engine, out)
    assert out.replies[-1].key == "ask_seat"


def test_domain_check_names_missing_responses_and_languages() -> None:
    bad = DomainSpec.model_validate(
        {
            "flows": {"f": {"intents": ["x"], "slots": [{"name": "s", "entities": ["seat"], "prompt": "nope"}]}},
            "responses": {"fallback_rephrase": {"text": {"en": "?"}}},
        }
    )
    with pytest.raises(DomainError, match=r"response 'nope' \(used by flow 'f' slot 's'\) is not defined") as err:
        check_domain(bad, ["en", "fr"])
    assert "'fallback_rephrase' has no text in 'fr'" in str(err.value)


# ---- actions ---------------------------------------------------------------


def _ctx() -> ActionContext:
    from datetime import datetime

    return ActionContext("web:1", "en", {}, "run", "f", datetime.now(UTC))


def test_action_that_raises_becomes_an_error_result_logged_with_the_conversation(caplog) -> None:
    @action("boom")
    def boom(ctx: ActionContext) -> ActionResult:
        raise RuntimeError("database down")

    reg = ActionRegistry({"boom": boom})
    res = reg.run("boom", _ctx())
    assert not res.ok and res.error == "RuntimeError: database down"
    assert "conversation web:1: action 'boom' raised RuntimeError" in caplog.text


def test_action_that_hangs_times_out_without_blocking_the_worker(caplog) -> None:
    release = __import__("threading").Event()
    reg = ActionRegistry({"slow": lambda ctx: release.wait(5)}, timeout=0.2)
    t0 = time.monotonic()
    res = reg.run("slow", _ctx())
    release.set()
    assert time.monotonic() - t0 < 1 and res.error == "timeout after 0.2s"
    assert "conversation web:1: action 'slow' timed out" in caplog.text


def test_missing_actions_are_named_at_start() -> None:
    with pytest.raises(ActionNotFound, match=r"undefined actions \['nope'\]; defined: \['a'\]"):
        ActionRegistry({"a": lambda c: None}).require(["a", "nope"])


def test_actions_module_is_loaded_with_its_api(tmp_path: Path) -> None:
    reg = load_actions("bots.airline.actions", None, {"database": str(tmp_path / "a.db")})
    assert {"change_seat", "check_seat", "booking_status", "flight_status"} <= set(reg.names())
    assert reg.api.find_booking("X7K9QZ").seat == "14C"


def test_runtime_survives_an_action_that_raises(make_runtime, airline_settings) -> None:
    settings = airline_settings()
    reg = load_actions("bots.airline.actions", settings, settings.dialogue.actions_options)

    def broken(ctx: ActionContext) -> ActionResult:
        raise ConnectionError("booking API unreachable")

    reg.actions["booking_status"] = broken
    rt = make_runtime(settings=settings, actions=reg)
    r = rt.handle(inbound("status of my booking X7K9QZ", conv="test:boom"))
    assert "surname" in r.outbounds[0].text
    r = rt.handle(inbound("Dupont", conv="test:boom"))
    assert "isn't answering" in r.outbounds[0].text and r.state.pending == "offer_human:action_error"
    r = rt.handle(inbound("yes", conv="test:boom"))
    assert r.state.mode == "waiting" and r.mode_change.reason == "action_error"


def test_runtime_survives_an_action_that_times_out(make_runtime, airline_settings) -> None:
    settings = airline_settings()
    reg = load_actions("bots.airline.actions", settings, settings.dialogue.actions_options, timeout=0.2)
    reg.actions["flight_status"] = lambda ctx: time.sleep(2)
    rt = make_runtime(settings=settings, actions=reg)
    t0 = time.monotonic()
    r = rt.handle(inbound("flight status NM1234", conv="test:slow"))
    assert time.monotonic() - t0 < 1.5
    assert "isn't answering" in r.outbounds[0].text


def test_demo_backend_is_seeded_once_and_reseeded_when_stale(tmp_path: Path) -> None:
    from datetime import date, timedelta

    from bots.airline.backend import SQLiteAirline

    db = tmp_path / "air.db"
    old_day = date.today() - timedelta(days=60)
    first = SQLiteAirline(db, today=old_day)
    assert first.find_booking("X7K9QZ").flight.date == old_day + timedelta(days=3)
    first.change_seat("X7K9QZ", "15C")
    again = SQLiteAirline(db)  # all flights in the past: fresh seed relative to today
    b = again.find_booking("X7K9QZ")
    assert b.flight.date == date.today() + timedelta(days=3) and b.seat == "14C" and b.surname == "Dupont"
    again.change_seat("X7K9QZ", "16A")
    assert SQLiteAirline(db).find_booking("X7K9QZ").seat == "16A"  # not reseeded while current


def test_a_value_failing_the_slot_pattern_is_refused_with_the_invalid_prompt(engine: Engine) -> None:
    st = engine.turn(DialogueState.fresh("c"), nlu("flight status", "flight_status")).state
    out = engine.turn(st, nlu("flight 12345678", "inform", entities={"flight_number": "12345678"}))
    assert out.replies[-1].key == "invalid_flight_number"
    assert out.state.flow.slots == {} and out.state.flow.retries == 1 and out.action is None


def test_an_action_sees_the_state_and_may_add_its_own_texts(make_runtime, airline_settings) -> None:
    settings = airline_settings()
    reg = load_actions("bots.airline.actions", settings, settings.dialogue.actions_options)
    seen: dict[str, Any] = {}

    def status(ctx: ActionContext) -> ActionResult:
        seen.update(ctx.state)
        return ActionResult(response="flight_on_time", values={"flight_number": "NM1"}, texts=["Gate opens at 13:50."])

    reg.actions["flight_status"] = status
    rt = make_runtime(settings=settings, actions=reg)
    r = rt.handle(inbound("flight status NM1234", conv="test:texts"))
    assert [o.text for o in r.outbounds][-1] == "Gate opens at 13:50."
    assert seen["language"] == "en" and seen["flow"]["name"] == "flight_status" and "processed" not in seen


def test_a_typed_yes_after_a_reply_offering_a_person_hands_off(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("this is a disgrace", "complaint"))
    assert out.state.pending == "offer_human:intent:complaint"
    out = engine.turn(out.state, nlu("yes please", "affirm"))
    assert out.mode_request == ModeRequest("waiting", "intent:complaint")


def test_a_no_after_a_reply_offering_a_person_is_declined_politely(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("this is a disgrace", "complaint"))
    out = engine.turn(out.state, nlu("no thanks", "deny"))
    assert out.state.mode == "bot" and out.state.pending is None
    assert "All right" in out.replies[0].text


def test_a_rephrase_with_suggested_buttons_opens_no_question(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"),
        nlu("blorp", "out_of_scope", 0.3, ranking=[("out_of_scope", 0.3), ("human_handoff", 0.2)]),
    )
    assert out.replies[0].key == "fallback_rephrase" and out.state.pending is None


def test_the_awaited_value_is_an_answer_even_if_the_nlu_leans_to_another_flow(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("change my seat", "change_seat"))
    out = engine.turn(
        out.state,
        nlu(
            "the booking code is X7K9QZ",
            "booking_status",
            0.53,
            entities={"booking_ref": "X7K9QZ"},
            ranking=[("booking_status", 0.53), ("inform", 0.46)],
        ),
    )
    assert out.state.flow.name == "change_seat" and out.state.flow.slots["booking_ref"] == "X7K9QZ"
    assert out.state.stack == []


def test_a_clear_other_request_with_the_awaited_value_still_starts_that_flow(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("check my booking", "booking_status"))
    out = engine.turn(
        out.state,
        nlu(
            "cancel my booking X7K9QZ",
            "cancel_booking",
            0.97,
            entities={"booking_ref": "X7K9QZ"},
            ranking=[("cancel_booking", 0.97), ("booking_status", 0.02)],
        ),
    )
    assert out.state.flow.name == "cancel_booking"


def test_a_lone_flight_number_starts_flight_status(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"),
        nlu(
            "and NM2210?",
            "inform",
            0.98,
            entities={"flight_number": "NM2210"},
            ranking=[("inform", 0.98), ("flight_status", 0.01)],
        ),
    )
    assert out.state.flow.name == "flight_status" and out.action.name == "flight_status"


def test_a_clear_out_of_scope_message_mid_flow_says_so_and_asks_again(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"), nlu("change my seat on X7K9QZ", "change_seat", entities={"booking_ref": "X7K9QZ"})
    )
    out = verified(engine, out)
    assert out.replies[-1].key == "ask_seat"
    out = engine.turn(out.state, nlu("tell me a joke", "out_of_scope", 0.99))
    assert [r.key for r in out.replies] == ["out_of_scope_in_flow", "ask_seat"]
    assert out.state.flow.name == "change_seat" and out.state.flow.retries == 1


def test_goodbye_mid_flow_ends_the_flow_without_asking_again(engine: Engine) -> None:
    out = engine.turn(DialogueState.fresh("c"), nlu("change my seat", "change_seat"))
    out = engine.turn(out.state, nlu("bye", "goodbye"))
    assert [r.key for r in out.replies] == ["faq:goodbye"]
    assert out.state.flow is None and {"type": "flow_cancelled", "flow": "change_seat"} in out.events


def test_a_confident_out_of_scope_message_suggests_what_the_bot_mainly_does(engine: Engine) -> None:
    msg = nlu(
        "what's the weather in Paris",
        "out_of_scope",
        0.99,
        ranking=[("out_of_scope", 0.99), ("checkin_info", 0.004), ("baggage_info", 0.003)],
    )
    out = engine.turn(DialogueState.fresh("c"), msg)
    assert [b[1] for b in out.replies[0].buttons] == ["/booking_status", "/change_seat", "/flight_status"]


@pytest.mark.parametrize(
    "text, slot, value",
    [
        ("15 c", "seat", "15C"),
        ("le 15 c", "seat", "15C"),
        ("x7k 9qz", "booking_ref", "X7K9QZ"),
        ("thanks", "booking_ref", None),
        ("hello there", "seat", None),
        ("I would like the one at the back", "seat", None),
    ],
)
def test_a_short_answer_the_extractor_missed_still_fills_the_awaited_slot(
    text: str, slot: str, value: str | None
) -> None:
    from bots.dialogue.choices import loose_slot_value

    spec = next(s for s in DOMAIN_SPEC.flows["change_seat"].slots if s.name == slot)
    assert loose_slot_value(spec, text) == value


def test_the_awaited_seat_written_loosely_reaches_the_confirmation(engine: Engine) -> None:
    out = engine.turn(
        DialogueState.fresh("c"), nlu("change my seat on X7K9QZ", "change_seat", entities={"booking_ref": "X7K9QZ"})
    )
    out = verified(engine, out)
    out = engine.turn(out.state, nlu("15 c", "inform", 0.9))
    assert out.state.flow.slots["seat"] == "15C" and out.action.name == "check_seat"

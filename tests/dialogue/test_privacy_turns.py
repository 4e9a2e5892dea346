"""Consent, opt-out, feedback signals and "delete my data" in the turn (real Redis, SQLite and PostgreSQL).

The runtime carries the privacy step (``bots.dialogue.privacy_step``) with the shipped phrases
and responses (``bots/dialogue/privacy.yml``) and the default consent wordings; the keyword
test NLU stands in for the classifier (the phrases do not depend on it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from bots.dialogue.actions import load_actions
from bots.dialogue.build import build_privacy_step
from bots.dialogue.domain import load_domain
from bots.dialogue.runtime import ConversationRuntime
from bots.dialogue.state import CONFIRM
from bots.privacy import ConsentBook, Customer
from bots.privacy.tables import feedback_counts, feedback_signals
from bots.settings.feedback import FeedbackSettings
from bots.settings.privacy import PrivacySettings

from .conftest import inbound
from .rules_nlu import RulesNLU

pytestmark = pytest.mark.integration

SECRET = "test-analytics-secret-0123456789"
WORDING = PrivacySettings().consent.wordings["feedback_analytics"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def make_private(airline_settings, redis_client, sql_engine) -> Callable[..., ConversationRuntime]:
    """A runtime with the privacy step; ``feedback`` keys are FeedbackSettings fields."""

    def make(engine: Engine | None = None, clock: Any = None, defer: bool = False, **feedback: Any):
        s = airline_settings()
        eng = engine if engine is not None else sql_engine
        d = s.dialogue
        domain = load_domain(s)
        step = build_privacy_step(
            s,
            redis_client,
            eng,
            domain,
            privacy=PrivacySettings(analytics_secret=SECRET),
            feedback=FeedbackSettings(**feedback),
            clock=clock,
            defer_erasure=defer,
        )
        actions = load_actions(d.actions_module, s, d.actions_options, d.action_timeout_seconds)
        return ConversationRuntime(
            settings=s, redis=redis_client, engine=eng, nlu=RulesNLU(), actions=actions, clock=clock, domain=domain,
            privacy=step,
        )  # fmt: skip

    return make


def counts(engine: Engine) -> tuple[int, int]:
    """(feedback_signals rows, sum of feedback_counts)."""
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(feedback_signals)).scalar_one()
        counted = conn.execute(select(func.coalesce(func.sum(feedback_counts.c.count), 0))).scalar_one()
    return int(rows), int(counted)


def texts(result) -> list[str]:
    return [o.text for o in result.outbounds]


# -- asking at first contact -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "hello", "titles", "answers"),
    [
        ("en", "hello", ["Yes", "No", "Later"], {"yes": "yes", "no": "no", "later": "later"}),
        ("fr", "bonjour", ["Oui", "Non", "Plus tard"], {"yes": "oui", "no": "non", "later": "plus tard"}),
    ],
)
@pytest.mark.parametrize("answer", ["yes", "no", "later"])
@pytest.mark.parametrize("how", ["button", "words"])
def test_consent_is_asked_at_first_contact_and_answered_by_button_or_words(
    make_private, sql_engine, lang, hello, titles, answers, answer, how
) -> None:
    clock = Clock()
    rt = make_private(clock=clock, ask_consent="first_contact")
    conv = f"test:first-{lang}-{answer}-{how}"
    r = rt.handle(inbound(hello, conv=conv))
    asked = r.replies[-1]
    assert asked.key == "consent_ask" and asked.text == WORDING.text[lang]
    assert [t for t, _ in asked.buttons] == titles
    assert r.outbounds[-1].quick_replies[0].payload == "/consent_yes"

    if how == "button":
        r = rt.handle(inbound(titles[["yes", "no", "later"].index(answer)], conv=conv, payload=f"/consent_{answer}"))
    else:
        r = rt.handle(inbound(answers[answer], conv=conv))
    assert [x.key for x in r.replies] == [
        {"yes": "consent_granted", "no": "consent_declined", "later": "consent_later"}[answer]
    ]
    who = Customer("test", conv.split(":", 1)[1])
    history = ConsentBook(sql_engine).history(who)
    if answer == "later":
        assert history == [] and r.state.privacy["consent"] == "later"
    else:
        (rec,) = history
        assert (rec.purpose, rec.granted, rec.how) == ("feedback_analytics", answer == "yes", how)
        assert (rec.wording_version, rec.wording, rec.language) == ("feedback-1", WORDING.text[lang], lang)

    # asked once: not again on the next messages
    r = rt.handle(inbound(hello, conv=conv))
    assert "consent_ask" not in [x.key for x in r.replies]
    if answer == "later":  # ... until later_days have passed
        clock.now += timedelta(days=8)
        r = rt.handle(inbound(hello, conv=conv))
        assert r.replies[-1].key == "consent_ask"


def test_no_consent_question_on_top_of_a_handover_nor_while_a_flow_asks(make_private) -> None:
    rt = make_private(ask_consent="first_contact")
    r = rt.handle(inbound("I want to talk to a human", conv="test:first-human"))
    assert r.state.mode == "waiting" and "consent_ask" not in [x.key for x in r.replies]
    r = rt.handle(inbound("I want to change my seat", conv="test:first-flow"))
    assert r.state.flow is not None and "consent_ask" not in [x.key for x in r.replies]


def test_consent_asked_after_a_resolved_request_not_at_first_contact(make_private) -> None:
    rt = make_private(ask_consent="after_resolution")
    r = rt.handle(inbound("hello", conv="test:after"))
    assert "consent_ask" not in [x.key for x in r.replies]
    rt.handle(inbound("I want to change my seat on X7K9QZ to 15C", conv="test:after"))
    rt.handle(inbound("Dupont", conv="test:after"))  # the identity step's surname
    r = rt.handle(inbound("yes", conv="test:after"))
    assert any(e["type"] == "flow_completed" for e in r.events)
    assert r.replies[-1].key == "consent_ask"


def test_never_asks_when_configured_so_and_a_consent_on_record_is_not_asked_again(make_private, sql_engine) -> None:
    rt = make_private(ask_consent="never")
    assert "consent_ask" not in [x.key for x in rt.handle(inbound("hello", conv="test:never")).replies]
    rt = make_private(ask_consent="first_contact")
    rt.handle(inbound("j'accepte", conv="test:given"))  # given in words before any question
    rt.redis.delete(*rt.redis.keys("*{test:given}*"))  # the state expired: SQL still knows the answer
    assert "consent_ask" not in [x.key for x in rt.handle(inbound("hello", conv="test:given")).replies]


# -- changing one's mind in words, signals only with consent -------------------------------------
def test_an_opted_out_customer_produces_counts_only(make_private, engine) -> None:
    rt = make_private(engine=engine, ask_consent="first_contact")
    rt.handle(inbound("hello", conv="test:out"))
    rt.handle(inbound("no", conv="test:out"))
    before = counts(engine)
    for i in range(3):
        rt.handle(inbound("this is terrible, what's my baggage allowance?", conv="test:out", message_id=f"o{i}"))
    rows, counted = counts(engine)
    assert rows == 0, "no signal row for a customer who declined"
    assert counted == before[1] + 3, "each message still counted"


def test_opting_in_then_out_in_words_stops_new_rows_at_once(make_private, engine) -> None:
    rt = make_private(engine=engine, ask_consent="never")
    other = make_private(engine=engine, ask_consent="never")  # another process on the same stores
    r = rt.handle(inbound("I agree to share feedback", conv="test:inout"))
    assert [x.key for x in r.replies] == ["consent_granted"]
    rt.handle(inbound("what's my baggage allowance?", conv="test:inout"))
    rows_in, _ = counts(engine)
    assert rows_in == 2, "the grant turn and the next message are signals"
    r = rt.handle(inbound("please stop analysing my mesages", conv="test:inout"))
    assert texts(r) == ["OK, I won't use your messages for feedback analysis any more."]
    rows_after, counted = counts(engine)
    other.handle(inbound("what's my baggage allowance?", conv="test:inout"))
    assert counts(engine) == (rows_after, counted + 1), "the other process sees the withdrawal at once"
    assert rows_after == rows_in, "the withdrawal message itself is only counted"
    history = ConsentBook(engine).history(Customer("test", "inout"))
    assert [(h.granted, h.how, h.wording_version) for h in history] == [
        (True, "words", "feedback-1"),
        (False, "words", "feedback-1"),
    ]


@pytest.mark.parametrize(
    ("grant", "withdraw", "confirmation"),
    [
        ("you can use my feedback", "don't use my messages", "I won't use your messages"),
        ("j'accepte", "je refuse", "je n'utiliserai plus vos messages"),
        ("J'accepte de partager mes avis", "N'analysez plus mes messages svp", "je n'utiliserai plus vos messages"),
        ("jaccepte", "n'analysez plus mes mesages", "je n'utiliserai plus vos messages"),
    ],
)
def test_change_of_mind_in_words_en_and_fr_with_typos(make_private, sql_engine, grant, withdraw, confirmation) -> None:
    rt = make_private(ask_consent="never")
    conv = "test:words"
    assert rt.handle(inbound(grant, conv=conv)).replies[0].key == "consent_granted"
    r = rt.handle(inbound(withdraw, conv=conv))
    assert len(r.outbounds) == 1 and confirmation in r.outbounds[0].text, "confirmed once, in the customer's language"
    assert not ConsentBook(sql_engine).granted(Customer("test", "words"), "feedback_analytics")


def test_a_short_i_agree_answers_the_engines_open_question_not_the_consent_one(make_private, sql_engine) -> None:
    rt = make_private(ask_consent="never")
    conv = "test:agree-flow"
    rt.handle(inbound("I want to change my seat on X7K9QZ to 15C", conv=conv))
    assert rt.handle(inbound("Dupont", conv=conv)).state.flow.awaiting == CONFIRM  # the surname, then yes/no
    r = rt.handle(inbound("I agree", conv=conv))
    assert "consent_granted" not in [x.key for x in r.replies], "left to the engine (its yes/no question)"
    assert ConsentBook(sql_engine).history(Customer("test", "agree-flow")) == []
    r = rt.handle(inbound("I agree to share my feedback", conv=conv))
    assert r.state.flow is not None, "still confirming"
    assert r.replies[0].key == "consent_granted", "a longer phrase is about the consent even then"


def test_a_negated_grant_or_an_unrelated_refusal_changes_nothing(make_private, sql_engine) -> None:
    rt = make_private(ask_consent="never")
    rt.handle(inbound("you can't use my feedback", conv="test:neg"))
    rt.handle(inbound("je refuse de payer ce supplément bagages", conv="test:neg"))
    assert [h.granted for h in ConsentBook(sql_engine).history(Customer("test", "neg"))] == [False]


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("stop messaging me", "no more offers, news or trip updates from us"),
        ("unsubscribe", "no more offers, news or trip updates from us"),
        ("ne m'écrivez plus", "plus d'offres, de nouvelles ni d'informations de voyage"),
        ("désabonnez-moi", "plus d'offres, de nouvelles ni d'informations de voyage"),
    ],
)
def test_opt_out_in_words_withdraws_marketing_service_updates_and_feedback_and_confirms_once(
    make_private, sql_engine, words, said
) -> None:
    rt = make_private(ask_consent="never")
    conv = "test:optout"
    rt.handle(inbound("hello", conv=conv))
    r = rt.handle(inbound(words, conv=conv))
    assert len(r.outbounds) == 1 and said in r.outbounds[0].text
    current = ConsentBook(sql_engine).current(Customer("test", "optout"))
    assert {p: (c.granted, c.how) for p, c in current.items()} == {
        "marketing": (False, "words"),
        "service_updates": (False, "words"),
        "feedback_analytics": (False, "words"),
    }


def test_opt_out_words_work_while_a_person_handles_the_conversation(make_private, sql_engine) -> None:
    rt = make_private(ask_consent="never")
    conv = "test:human-optout"
    assert rt.handle(inbound("I want to talk to a human", conv=conv)).state.mode == "waiting"
    assert rt.handle(inbound("where are you?", conv=conv)).outbounds == []
    r = rt.handle(inbound("stop messaging me", conv=conv))
    assert len(r.outbounds) == 1 and r.state.mode == "waiting"
    assert not ConsentBook(sql_engine).granted(Customer("test", "human-optout"), "marketing")


def test_an_sms_stop_keyword_event_withdraws_each_once(make_private, engine) -> None:
    rt = make_private(engine=engine)
    stop = inbound("STOP", conv="sms:+33612345678", channel="sms", kind="event", message_id="SMstop")
    stop = type(stop)(**{**stop.to_dict(), "timestamp": stop.timestamp, "attachments": (), "event": "opt_out"})
    assert rt.handle(stop).outbounds == []
    rt.handle(stop)  # redelivered
    who = Customer("sms", "+33612345678")
    history = ConsentBook(engine).history(who)
    assert sorted((h.purpose, h.granted, h.how) for h in history) == [
        ("feedback_analytics", False, "keyword"),
        ("marketing", False, "keyword"),
        ("service_updates", False, "keyword"),
    ]
    assert {h.wording_version for h in history} == {"feedback-1", "marketing-1", "updates-1"}


def test_a_failing_signal_write_never_breaks_the_turn(make_private, sql_engine, caplog) -> None:
    rt = make_private(ask_consent="never")
    with sql_engine.begin() as conn:  # a real failure: the signal tables are gone
        conn.execute(text("DROP TABLE feedback_counts"))
        conn.execute(text("DROP TABLE feedback_signals"))
    r = rt.handle(inbound("what's my baggage allowance?", conv="test:broken"))
    assert "23 kg" in r.outbounds[0].text
    assert "message signal could not be stored" in caplog.text


# -- delete my data ------------------------------------------------------------------------------
def test_delete_my_data_asks_then_erases_after_the_state_save(make_private, redis_client, engine) -> None:
    from tests.privacy.world import redis_hits, sql_hits

    rt = make_private(engine=engine, ask_consent="never")
    conv = "test:Erase7Q2x9"
    rt.handle(inbound("j'accepte", conv=conv))
    rt.handle(inbound("quelle est ma franchise bagages ?", conv=conv))
    r = rt.handle(inbound("supprimez mes données", conv=conv))
    assert r.replies[0].key == "erase_confirm" and [t for t, _ in r.replies[0].buttons] == [
        "Oui, supprimer",
        "Non, garder",
    ]
    r = rt.handle(inbound("non", conv=conv))
    assert r.replies[0].key == "erase_kept"
    assert sql_hits(engine, ["Erase7Q2x9"]), "kept"
    rt.handle(inbound("effacez mes donnees", conv=conv))
    r = rt.handle(inbound("Oui, supprimer", conv=conv, payload="/erase_yes"))
    assert texts(r) == ["C'est fait : tout ce que nous avions enregistré sur vous est supprimé."]
    assert (
        sql_hits(engine, ["Erase7Q2x9"], (rt.privacy.signals.pseudonyms.subject(Customer("test", "Erase7Q2x9")),)) == {}
    )
    assert redis_hits(redis_client, ["Erase7Q2x9"]) == {}, "the state was not written back after the erasure"


def test_a_deferred_erasure_runs_after_delivery_and_again_on_a_redelivery(make_private, redis_client) -> None:
    from tests.privacy.world import redis_hits

    rt = make_private(ask_consent="never", defer=True)
    conv = "test:Defer5Kq1"
    rt.handle(inbound("delete my data", conv=conv))
    r = rt.handle(inbound("yes", conv=conv, message_id="confirm-1"))
    assert r.replies[0].key == "erase_done" and r.after_delivery is not None
    assert redis_hits(redis_client, ["Defer5Kq1"]), "nothing erased before the confirmation is delivered"
    # the worker died before running it: the redelivered message replays and erases
    again = rt.handle(inbound("yes", conv=conv, message_id="confirm-1"))
    assert again.replayed and texts(again) == texts(r) and again.after_delivery is not None
    again.after_delivery()
    assert redis_hits(redis_client, ["Defer5Kq1"]) == {}


def test_a_message_sent_before_the_erasure_does_not_bring_the_customer_back(make_private, redis_client) -> None:
    """A worker that read a message before the customer was erased (from the console, say) and
    waited for the lock meanwhile drops it; a message written after the erasure is a new start."""
    from dataclasses import replace

    from tests.privacy.world import redis_hits

    rt = make_private(ask_consent="never")
    conv = "test:Late8Rw3"
    rt.handle(inbound("what's my baggage allowance?", conv=conv))
    written_before = inbound("and my seat?", conv=conv)
    rt.privacy.erase(Customer("test", "Late8Rw3"))
    assert redis_hits(redis_client, ["Late8Rw3"]) == {}
    late = rt.handle(replace(written_before, timestamp=datetime.now(UTC) - timedelta(seconds=2)))
    assert late.outbounds == [] and redis_hits(redis_client, ["Late8Rw3"]) == {}, "not brought back"
    fresh = rt.handle(inbound("hello", conv=conv))
    assert fresh.outbounds, "a message after the erasure is answered"


@pytest.mark.parametrize("words", ["I agree to share feedback", "stop analysing my messages"])
def test_a_consent_said_mid_flow_is_confirmed_then_the_flow_s_question_is_asked_again(make_private, words) -> None:
    rt = make_private(ask_consent="never")
    conv = "test:MidFlow4"
    rt.handle(inbound("change my seat on X7K9QZ", conv=conv))
    asked = rt.handle(inbound("Dupont", conv=conv))  # the identity step's surname, then the seat
    assert asked.state.flow is not None and asked.state.flow.awaiting == "seat"
    prompt = asked.replies[-1]
    r = rt.handle(inbound(words, conv=conv))
    assert len(r.replies) == 2 and r.replies[-1].key == prompt.key and r.replies[-1].text == prompt.text
    assert r.replies[0].key != prompt.key  # the consent's own confirmation first
    done = rt.handle(inbound("15C", conv=conv))
    assert done.state.flow is not None and done.state.flow.slots.get("seat") == "15C"  # the flow goes on

"""Consent records and consent-checked feedback signals, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bots.privacy import ConsentBook, PrivacyError, Signals, Wording, customer
from bots.privacy.tables import consent_events, consent_state, feedback_counts, feedback_signals
from bots.stores.sql import make_engine

from .conftest import FEEDBACK_WORDING

pytestmark = pytest.mark.integration

ANA = customer("sms", "+33612345678")
BOB = customer("telegram", "4242")


def signal_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(feedback_signals).order_by(feedback_signals.c.id)).all()


def counts(engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        return {(r.channel, r.kind): r.count for r in conn.execute(select(feedback_counts))}


def test_consent_is_recorded_with_its_wording_and_how_and_is_never_inferred(book: ConsentBook, clock) -> None:
    assert book.granted(ANA, "feedback_analytics") is False, "no record: no consent"
    assert book.current(ANA) == {}
    book.grant(ANA, "feedback_analytics", how="button", wording=FEEDBACK_WORDING)
    clock.now += timedelta(minutes=5)
    refusal = Wording("feedback-1", "stop analysing my messages", "en")
    book.withdraw(ANA, "feedback_analytics", how="words", wording=refusal)
    book.grant(ANA, "marketing", how="console", wording=Wording("marketing-1", "Offers by SMS", "en"), actor="staff:3")
    assert book.granted(ANA, "feedback_analytics") is False and book.granted(ANA, "marketing") is True
    current = book.current(ANA)
    assert current["feedback_analytics"].how == "words" and current["feedback_analytics"].at == clock.now
    history = book.history(ANA)
    assert [(h.purpose, h.granted, h.how, h.actor) for h in history] == [
        ("feedback_analytics", True, "button", "customer"),
        ("feedback_analytics", False, "words", "customer"),
        ("marketing", True, "console", "staff:3"),
    ]
    assert history[0].wording == FEEDBACK_WORDING.text and history[0].wording_version == "feedback-1"
    assert book.history(BOB) == [] and book.granted(BOB, "marketing") is False


@pytest.mark.parametrize(
    ("purpose", "how", "wording", "error"),
    [
        ("analytics", "button", FEEDBACK_WORDING, "unknown consent purpose 'analytics'"),
        ("feedback_analytics", "guess", FEEDBACK_WORDING, "unknown way of giving consent 'guess'"),
        ("feedback_analytics", "button", Wording("", "text"), "version id of the wording"),
        ("feedback_analytics", "button", Wording("v1", "  "), "exact wording shown"),
    ],
)
def test_a_consent_without_purpose_how_or_wording_is_refused(sql_engine, purpose, how, wording, error) -> None:
    book = ConsentBook(sql_engine)
    with pytest.raises(PrivacyError, match=error):
        book.grant(ANA, purpose, how=how, wording=wording)
    with sql_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consent_events)).scalar_one() == 0


def test_an_opted_out_customer_produces_counts_only(book, signals: Signals, engine, pseudonyms) -> None:
    assert signals.message(ANA, intent="booking_status", sentiment=-0.4, sentiment_label="negative") == "count"
    assert signals.csat(ANA, 2) == "count"
    book.withdraw(ANA, "feedback_analytics", how="button", wording=FEEDBACK_WORDING)
    assert signals.comment(ANA, "my name is Ana, call +33 6 12 34 56 78", sentiment=-0.8) == "count"
    assert signals.nps(ANA, 3) == "count"
    assert signal_rows(engine) == []
    assert counts(engine) == {("sms", "message"): 1, ("sms", "csat"): 1, ("sms", "comment"): 1, ("sms", "nps"): 1}
    signals.message(ANA, intent="greet", sentiment=0.1)
    assert counts(engine)[("sms", "message")] == 2
    with engine.connect() as conn:
        assert conn.execute(select(feedback_counts.c.day)).scalars().first() == date(2026, 11, 30)


def test_opting_in_then_out_stops_new_rows_at_once_across_processes(book, engine, pseudonyms, clock) -> None:
    # two "processes": each its own engine (own connection pool) on the same database
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        recorder = Signals(other, pseudonyms, clock)
        book.grant(ANA, "feedback_analytics", how="button", wording=FEEDBACK_WORDING)
        assert recorder.message(ANA, intent="flight_status", sentiment=0.5, language="en") == "signal"
        assert recorder.csat(ANA, 5) == "signal"
        assert recorder.comment(ANA, "Great crew! I'm Ana, booking X7K9QZ", sentiment=0.9) == "signal"
        book.withdraw(ANA, "feedback_analytics", how="words", wording=Wording("feedback-1", "je refuse", "fr"))
        assert recorder.message(ANA, intent="flight_status", sentiment=0.5) == "count"
        assert recorder.nps(ANA, 9) == "count"
    finally:
        other.dispose()
    rows = signal_rows(engine)
    assert [r.kind for r in rows] == ["message", "csat", "comment"]
    assert {r.subject for r in rows} == {pseudonyms.subject(ANA)}
    assert rows[2].text == "Great crew! I'm [NAME], booking [BOOKING]" and rows[2].sentiment == 0.9
    assert all("+33612345678" not in str(tuple(r)) for r in rows), "keyed by the pseudonym, never the number"
    assert counts(engine) == {("sms", "message"): 1, ("sms", "nps"): 1}


def test_scores_out_of_range_are_refused(signals: Signals) -> None:
    with pytest.raises(PrivacyError, match="CSAT score 6"):
        signals.csat(ANA, 6)
    with pytest.raises(PrivacyError, match="NPS score -1"):
        signals.nps(ANA, -1)
    with pytest.raises(PrivacyError, match="outside"):
        signals.message(ANA, intent=None, sentiment=2.0)


def test_concurrent_changes_leave_the_latest_event_in_force(engine) -> None:
    book = ConsentBook(engine)
    errors: list[BaseException] = []

    def toggle(start: bool) -> None:
        try:
            for i in range(15):
                change = book.grant if (i % 2 == 0) == start else book.withdraw
                change(ANA, "marketing", how="api", wording=Wording("marketing-1", "offers"), actor="api:test")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=toggle, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    history = book.history(ANA)
    assert len(history) == 30
    assert book.current(ANA)["marketing"].granted == history[-1].granted
    with engine.connect() as conn:
        assert conn.execute(select(consent_state.c.event_id)).scalar_one() == history[-1].id

"""The redacted text of a message signal: stored only for a customer who opted in (the real turn,
the privacy step of ``bots.dialogue.privacy_step``, SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bots.privacy.tables import feedback_signals
from tests.dialogue.conftest import airline_settings, inbound  # noqa: F401  (fixture)
from tests.dialogue.test_privacy_turns import counts, make_private  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

SAID = "this is terrible, my email is ana.quux@example.com and my baggage allowance?"


def texts(engine: Engine) -> list[str | None]:
    with engine.connect() as conn:
        return list(conn.execute(select(feedback_signals.c.text).order_by(feedback_signals.c.id)).scalars())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


def test_an_opted_in_message_keeps_its_text_redacted(make_private, engine) -> None:  # noqa: F811
    rt = make_private(engine=engine, ask_consent="never")
    rt.handle(inbound("I agree to share feedback", conv="test:optin"))
    rt.handle(inbound(SAID, conv="test:optin"))
    stored = texts(engine)
    assert stored[-1] == "this is terrible, my email is [EMAIL] and my baggage allowance?"
    assert not any("quux" in (t or "") for t in stored)


def test_a_not_opted_in_customers_text_is_never_stored(make_private, engine) -> None:  # noqa: F811
    rt = make_private(engine=engine, ask_consent="first_contact")
    rt.handle(inbound("hello", conv="test:declined"))
    rt.handle(inbound("no", conv="test:declined"))
    never = make_private(engine=engine, ask_consent="never")
    for i in range(2):
        rt.handle(inbound(SAID, conv="test:declined", message_id=f"d{i}"))
        never.handle(inbound(f"{SAID} zebra{i}", conv="test:neverasked", message_id=f"n{i}"))
    rows, counted = counts(engine)
    assert rows == 0 and texts(engine) == [], "no signal row, no text, for customers without consent"
    assert counted >= 4


def test_a_withdrawal_stops_storing_text_at_once(make_private, engine) -> None:  # noqa: F811
    rt = make_private(engine=engine, ask_consent="never")
    rt.handle(inbound("I agree to share feedback", conv="test:inout"))
    rt.handle(inbound("please stop analysing my mesages", conv="test:inout"))
    before = texts(engine)
    rt.handle(inbound("my secret walrus words", conv="test:inout"))
    assert texts(engine) == before and not any("walrus" in (t or "") for t in before)

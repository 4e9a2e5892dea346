"""CSAT after a hand-back, answered natively on each channel: a digit on SMS, a button on Telegram;
stored for an opted-in customer, counted only for one who declined (real connectors, fake APIs)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from bots.privacy import ConsentBook, Customer, Pseudonyms
from bots.privacy.tables import feedback_counts, feedback_signals

from .conftest import SECRET, Bot

pytestmark = pytest.mark.integration

CHAT = 5123456789
NUMBER = "+31612345678"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("sql_engine" if request.param == "sqlite" else "pg_engine")


def signals_of(engine: Engine, who: Customer, kind: str) -> list[tuple]:
    subject = Pseudonyms(SECRET).subject(who)
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(feedback_signals.c.score, feedback_signals.c.text).where(
                    feedback_signals.c.subject == subject, feedback_signals.c.kind == kind
                )
            )
        ]


def counted(engine: Engine, channel: str, kind: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(feedback_counts.c.count), 0)).where(
                    feedback_counts.c.channel == channel, feedback_counts.c.kind == kind
                )
            ).scalar_one()
        )


def hand_back(bot: Bot, conversation_id: str) -> None:
    bot.desk.takeover(conversation_id, bot.staff)
    bot.desk.handback(conversation_id, bot.staff)


@pytest.mark.parametrize("opted_in", [True, False], ids=["opted-in", "declined"])
def test_csat_on_telegram_answered_by_a_button(make_bot, fake_telegram, engine, opted_in) -> None:
    bot: Bot = make_bot(engine=engine, ask_consent="first_contact")
    who = Customer("telegram", str(CHAT))
    bot.telegram_says(CHAT, "hello")
    ask = fake_telegram.calls("sendMessage")[-1]
    assert ask.params["text"].startswith("May we learn from this conversation")
    yes, no, later = [row[0] for row in ask.json_param("reply_markup")["inline_keyboard"]]
    assert [yes["text"], no["text"], later["text"]] == ["Yes", "No", "Later"]
    bot.telegram_presses(CHAT, (yes if opted_in else no)["callback_data"])
    (record,) = ConsentBook(engine).history(who)
    assert (record.granted, record.how, record.wording_version) == (opted_in, "button", "feedback-1")

    bot.telegram_says(CHAT, "I want to talk to a human")
    hand_back(bot, who.conversation_id)
    csat = fake_telegram.calls("sendMessage")[-1]
    assert "How would you rate" in csat.params["text"]
    buttons = [b for row in csat.json_param("reply_markup")["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    before = counted(engine, "telegram", "csat")
    bot.telegram_presses(CHAT, buttons[3]["callback_data"])
    thanks = fake_telegram.sent_texts(CHAT)[-2:]
    assert thanks[0] == "Thank you for your rating!" and thanks[1].startswith("Anything you would like")
    bot.telegram_says(CHAT, "Ana was great, call me on +33 6 12 34 56 78")
    assert fake_telegram.sent_texts(CHAT)[-1] == "Thank you, we have passed it on."

    if opted_in:
        assert signals_of(engine, who, "csat") == [(4, None)]
        [(_, comment)] = signals_of(engine, who, "comment")
        assert "Ana was great" in comment and "12 34 56 78" not in comment, "stored redacted"
        assert counted(engine, "telegram", "csat") == before
    else:
        assert signals_of(engine, who, "csat") == [] and signals_of(engine, who, "comment") == []
        assert counted(engine, "telegram", "csat") == before + 1, "a count, no row"


@pytest.mark.parametrize("opted_in", [True, False], ids=["opted-in", "declined"])
def test_csat_on_sms_answered_by_a_digit(make_bot, fake_twilio, engine, opted_in) -> None:
    bot: Bot = make_bot(engine=engine, ask_consent="first_contact", comment=False)
    who = Customer("sms", NUMBER)
    bot.sms_says(NUMBER, "hello")
    ask = fake_twilio.messages(to=NUMBER)[-1]["Body"]
    assert "May we learn from this conversation" in ask and "\n1. Yes\n2. No\n3. Later" in ask
    bot.sms_says(NUMBER, "1" if opted_in else "2")  # a numbered answer: the connector makes it the button
    (record,) = ConsentBook(engine).history(who)
    assert (record.granted, record.how) == (opted_in, "button")

    bot.sms_says(NUMBER, "I want to talk to a human")
    hand_back(bot, who.conversation_id)
    csat = fake_twilio.messages(to=NUMBER)[-1]["Body"]
    assert "Reply from 1 (very bad) to 5 (very good)" in csat and "1. 1" not in csat, (
        "no options that repeat the digits"
    )
    before = counted(engine, "sms", "csat")
    bot.sms_says(NUMBER, "4")
    assert fake_twilio.messages(to=NUMBER)[-1]["Body"] == "Thank you for your rating!"
    if opted_in:
        assert signals_of(engine, who, "csat") == [(4, None)]
    else:
        assert signals_of(engine, who, "csat") == []
        assert counted(engine, "sms", "csat") == before + 1


def test_csat_after_a_resolve_in_french_then_nps_when_enabled(make_bot, fake_twilio, sql_engine) -> None:
    bot: Bot = make_bot(ask_consent="never", comment=False, nps=True)
    bot.sms_says(NUMBER, "je veux parler à un conseiller")
    conv = f"sms:{NUMBER}"
    bot.desk.takeover(conv, bot.staff)
    bot.desk.resolve(conv, bot.staff)
    assert "Comment évaluez-vous l'aide reçue" in fake_twilio.messages(to=NUMBER)[-1]["Body"]
    bot.sms_says(NUMBER, "5/5")
    assert "recommandiez" in fake_twilio.messages(to=NUMBER)[-1]["Body"]
    bot.sms_says(NUMBER, "9")
    assert fake_twilio.messages(to=NUMBER)[-1]["Body"] == "Merci !"
    with sql_engine.connect() as conn:
        kinds = dict(
            conn.execute(
                select(feedback_counts.c.kind, feedback_counts.c.count).where(feedback_counts.c.channel == "sms")
            ).all()
        )
    assert kinds["csat"] == 1 and kinds["nps"] == 1, "no consent: counted only"


def test_a_message_that_is_not_a_score_lets_the_question_lapse(make_bot, fake_twilio) -> None:
    bot: Bot = make_bot(ask_consent="never")
    bot.sms_says(NUMBER, "I want to talk to a human")
    hand_back(bot, f"sms:{NUMBER}")
    bot.sms_says(NUMBER, "what's my baggage allowance?")
    assert "23 kg" in fake_twilio.messages(to=NUMBER)[-1]["Body"]
    bot.sms_says(NUMBER, "4")  # no question open any more: not a rating
    assert "Thank you for your rating" not in fake_twilio.messages(to=NUMBER)[-1]["Body"]


# -- "delete my data" on a real channel ---------------------------------------------------------
def test_delete_my_data_on_telegram_confirms_then_leaves_no_trace(make_bot, fake_telegram, engine) -> None:
    """The erasure runs after the confirmation is delivered (``TurnResult.after_delivery``), so
    the confirmation's transcript row, ``deliveries`` row and send marks go too."""
    from tests.privacy.world import redis_hits, sql_hits

    bot: Bot = make_bot(engine=engine, ask_consent="first_contact", defer_erasure=True)
    who = Customer("telegram", str(CHAT))
    needles = [str(CHAT), who.conversation_id]
    bot.telegram_says(CHAT, "bonjour")
    bot.telegram_says(CHAT, "j'accepte")
    bot.telegram_says(CHAT, "quelle est la franchise bagages ?")
    assert sql_hits(engine, needles).keys() >= {"messages", "deliveries", "consent_events", "conversations"}
    bot.telegram_says(CHAT, "supprimer mes données")
    ask = fake_telegram.calls("sendMessage")[-1]
    assert "Voulez-vous que nous supprimions tout" in ask.params["text"]
    yes = ask.json_param("reply_markup")["inline_keyboard"][0][0]
    assert yes["text"] == "Oui, supprimer"
    bot.telegram_presses(CHAT, yes["callback_data"])
    assert fake_telegram.sent_texts(CHAT)[-1] == (
        "C'est fait : tout ce que nous avions enregistré sur vous est supprimé."
    )
    subject = Pseudonyms(SECRET).subject(who)
    assert sql_hits(engine, needles, (subject,)) == {}, "no row names the customer, not even the confirmation's"
    assert redis_hits(bot.redis, needles) == {}, "no key, value or stream entry names the customer"
    with engine.connect() as conn:
        from bots.privacy.tables import erasures

        (record,) = conn.execute(select(erasures)).all()
    assert record.actor == "customer" and record.subject_hash == Pseudonyms(SECRET).erasure_hash(who)


def test_without_a_deferred_erasure_only_the_confirmations_delivery_remains(make_bot, fake_twilio) -> None:
    """Documents the fallback (a pipeline that does not run ``after_delivery``): the erasure runs
    right after the state save; the confirmation is delivered after it, so its ``deliveries`` row
    and send marks are the only trace left."""
    from tests.privacy.world import redis_hits, sql_hits

    bot: Bot = make_bot(ask_consent="never", defer_erasure=False)
    bot.sms_says(NUMBER, "hello")
    bot.sms_says(NUMBER, "delete my data")
    bot.sms_says(NUMBER, "yes")
    assert fake_twilio.messages(to=NUMBER)[-1]["Body"] == "Done: everything we stored about you is deleted."
    left = sql_hits(bot.engine, [NUMBER])
    assert set(left) == {"deliveries"} and len(left["deliveries"]) == 1
    left_keys = redis_hits(bot.redis, [NUMBER])
    assert left_keys and all(":sent" in key for key in left_keys), left_keys


def test_later_is_asked_again_at_the_next_resolution_then_csat_follows(make_bot, fake_twilio, engine) -> None:
    bot: Bot = make_bot(engine=engine, ask_consent="first_contact", comment=False)
    who = Customer("sms", NUMBER)
    bot.sms_says(NUMBER, "hello")
    bot.sms_says(NUMBER, "3")  # 3. Later
    assert fake_twilio.messages(to=NUMBER)[-1]["Body"] == "All right, I'll ask you another time."
    bot.sms_says(NUMBER, "I want to talk to a human")
    hand_back(bot, who.conversation_id)
    again = fake_twilio.messages(to=NUMBER)[-1]["Body"]
    assert "May we learn from this conversation" in again and "\n1. Yes" in again, "asked again: a resolution"
    bot.sms_says(NUMBER, "yes")  # an offered option's title: the connector makes it the button
    thanks, csat = [m["Body"] for m in fake_twilio.messages(to=NUMBER)[-2:]]
    assert thanks.startswith("Thank you! You can change your mind") and "How would you rate" in csat
    assert "1. 1" not in csat, "the rating's digits are the question's own, not a numbered list"
    bot.sms_says(NUMBER, "5")
    assert signals_of(engine, who, "csat") == [(5, None)]
    (record,) = ConsentBook(engine).history(who)
    assert (record.granted, record.how, record.wording_version) == (True, "button", "feedback-1")


def test_an_sms_stop_keyword_withdraws_marketing_service_updates_and_feedback(make_bot, fake_twilio, engine) -> None:
    bot: Bot = make_bot(engine=engine, ask_consent="never")
    who = Customer("sms", NUMBER)
    bot.sms_says(NUMBER, "I agree to share feedback")
    assert ConsentBook(engine).granted(who, "feedback_analytics")
    sent = len(fake_twilio.messages(to=NUMBER))
    bot.sms_says(NUMBER, "STOP")
    current = ConsentBook(engine).current(who)
    assert {p: (c.granted, c.how) for p, c in current.items()} == {
        "feedback_analytics": (False, "keyword"),
        "marketing": (False, "keyword"),
        "service_updates": (False, "keyword"),
    }
    assert len(fake_twilio.messages(to=NUMBER)) == sent, "nothing sent after STOP"

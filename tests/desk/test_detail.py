"""The conversation view: transcript with NLU, slots, profile, suggestions ranked by intent."""

from __future__ import annotations

from datetime import timedelta

from bots.desk import Desk
from bots.desk.suggestions import suggest
from bots.dialogue.domain import load_domain
from bots.dialogue.state import FlowState

from .conftest import T0, add_conversation, add_message, set_mode


def test_detail_shows_nlu_slots_profile_and_suggestions(desk: Desk, people, clock) -> None:
    cid = "fake:paul"
    add_conversation(desk.engine, cid)
    add_message(
        desk.engine,
        cid,
        "my bag is lost!!",
        intent="baggage_info",
        confidence=0.83,
        sentiment=-0.7,
        at=T0 + timedelta(minutes=1),
        ranking=[{"name": "baggage_info", "confidence": 0.83}, {"name": "checkin_info", "confidence": 0.1}],
    )
    add_message(desk.engine, cid, "Sorry to hear that.", direction="out", at=T0 + timedelta(minutes=1, seconds=1))
    lease = desk.store.acquire(cid)
    state = lease.state
    state.memory = {"booking_ref": "NB1234", "last_name": "Martin"}
    state.flow = FlowState("change_seat", {"seat": "15C", "booking_ref": "NB9999"})
    desk.store.save(lease, state)
    set_mode(desk, cid, "waiting", T0 + timedelta(minutes=2))
    clock.now = T0 + timedelta(minutes=3)
    desk.takeover(cid, people["ana"])
    desk.note(cid, people["ana"], "lost bag, escalate")

    d = desk.detail(cid)
    assert d.summary.mode == "human"
    first, second = d.messages
    assert (first.author, first.intent, first.confidence, first.sentiment_score, first.sentiment_label) == (
        "customer",
        "baggage_info",
        0.83,
        -0.7,
        "negative",
    )
    assert (second.author, second.intent) == ("bot", None)
    assert d.slots == {"booking_ref": "NB1234", "last_name": "Martin"}, "leaving the bot drops the flow"
    assert [n.text for n in d.notes] == ["lost bag, escalate"]
    p = d.profile
    assert (p.channel, p.customer_id, p.language, p.messages, p.handoffs, p.first_seen) == (
        "fake",
        "paul",
        "en",
        2,
        1,
        T0 + timedelta(minutes=1),
    )
    assert [(h.mode, h.reason) for h in p.history] == [("waiting", "human_request"), ("human", "takeover")]
    assert d.window is None, "the fake channel has no reply window"
    assert [(s.source, s.title) for s in d.suggestions[:2]] == [("canned", "Baggage rules"), ("faq", "Baggage")]
    assert d.suggestions[0].score > d.suggestions[1].score > d.suggestions[2].score
    assert len(d.suggestions) == 5 and d.suggestions == tuple(desk.suggestions(cid))
    as_json = d.to_dict()
    assert as_json["summary"]["created_at"] == T0.isoformat() and as_json["messages"][0]["at"].endswith("+00:00")


def test_slots_of_a_conversation_the_bot_still_leads(desk: Desk) -> None:
    add_conversation(desk.engine, "fake:zoe")
    lease = desk.store.acquire("fake:zoe")
    lease.state.memory = {"booking_ref": "NB1234"}
    lease.state.flow = FlowState("change_seat", {"seat": "2A", "booking_ref": "NB5678"})
    desk.store.save(lease, lease.state)
    d = desk.detail("fake:zoe")
    assert (d.flow, d.slots) == ("change_seat", {"booking_ref": "NB5678", "seat": "2A"})
    assert d.messages == () and d.profile.messages == 0


def test_suggestions_rank_and_fall_back_to_the_default_language(settings) -> None:
    domain = load_domain(settings)
    canned = settings.console.canned_replies
    nlu = {
        "intent": "cancel_booking",
        "ranking": [{"name": "cancel_booking", "confidence": 0.6}, {"name": "checkin_info", "confidence": 0.3}],
    }
    out = suggest(canned, domain, nlu, "fr", "en")
    assert [(s.source, s.shortcut) for s in out[:4]] == [
        ("canned", "refund"),
        ("canned", "bags"),
        ("canned", "hello"),
        ("faq", None),
    ]
    assert out[0].text == "Les remboursements prennent 7 jours."
    assert out[2].text == "Hello, I'm Ana from Nimbus Air.", "no French text: the default language's"
    assert out[3].score > out[4].score, "a runner-up intent's FAQ comes before the other FAQ answers"
    assert out[3].text.startswith("L'enregistrement en ligne")
    assert [s.source for s in suggest(canned, domain, None, None, "en")][:3] == ["canned"] * 3
    assert len(suggest(canned, domain, None, None, "en", limit=2)) == 2

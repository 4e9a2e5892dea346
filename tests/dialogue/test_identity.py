"""The identity step: free-text surnames read, flows verify first, attempts limited per booking
across conversations (real Redis, the demo airline's verify_identity action)."""

from __future__ import annotations

import pytest

from bots.dialogue.identity import flow_slots, free_text_value, marked_value, name_beside, subject_key
from bots.settings.dialogue import DomainSpec, FlowSpec, IdentitySpec, SlotSpec

from .conftest import inbound

SURNAME = SlotSpec(name="surname", free_text=True, pattern=r"[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*", prompt="ask_surname")
REF = SlotSpec(name="booking_ref", entities=["booking_ref"], pattern="[A-Z0-9]{6}", prompt="ask_booking_ref")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Dupont", "Dupont"),
        ("my surname is dupont", "dupont"),
        ("it's Dupont please", "Dupont"),
        ("c'est Martin", "Martin"),
        ("Le Gall", "Le Gall"),
        ("O'Brien", "O'Brien"),
        ("je m'appelle Jean-Pierre Dupont", "Jean-Pierre Dupont"),
        ("Müller", "Müller"),
        ("c'est Dupont, D-U-P-O-N-T", "Dupont"),
        ("D-U-P-O-N-T", "Dupont"),
        ("it's booked under dupont", "dupont"),
        ("sure, it's Dupont", "Dupont"),
        ("oui, c'est Martin", "Martin"),
        ("how much does a second bag of 20 kg cost on this flight", None),
        ("X7K9QZ", None),
        ("", None),
    ],
)
def test_a_surname_is_read_from_the_answer_however_it_is_typed(text: str, value: str | None) -> None:
    assert free_text_value(SURNAME, text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("change my seat to 15C, booking X7K9QZ, surname Dupont", "Dupont"),
        ("réservation X7K9QZ au nom de Martin svp", "Martin"),
        ("my last name is Le Gall and the ref X7K9QZ", "Le Gall"),
        ("what is my surname?", None),
    ],
)
def test_a_surname_announced_in_a_longer_message_is_found(text: str, value: str | None) -> None:
    assert marked_value(SURNAME, text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("X7K9QZ, Dupont", "Dupont"),
        ("X7K9QZ surname dupont", "dupont"),
        ("X7K9QZ, Smith, S-M-I-T-H", "Smith"),
        ("sure, it's X7K9QZ", None),
        ("the booking code is X7K9QZ", None),
        ("c'est la H5NB6E", None),
        ("réservation X7K9QZ", None),
        ("Booking X7K9QZ", None),
        ("X7K9QZ dupont", None),  # not sure enough: the surname is asked
    ],
)
def test_only_a_name_beside_the_reference_is_taken_as_the_surname(text: str, value: str | None) -> None:
    from nlu.entities import EntityExtractor
    from nlu.result import NLUResult

    parsed = NLUResult(text, "en", "inform", 1.0, entities=tuple(EntityExtractor("en").extract(text)))
    assert name_beside(SURNAME, parsed) == value


def test_a_verifying_flow_asks_the_identity_slots_first_in_their_order() -> None:
    seat = SlotSpec(name="seat", entities=["seat"], prompt="ask_seat")
    identity = IdentitySpec(slots=[REF, SURNAME], action="verify", subject="booking_ref", failed="f", locked="l")
    domain = DomainSpec(identity=identity)
    flow = FlowSpec(intents=["change_seat"], slots=[REF, seat], verify=True)
    assert [s.name for s in flow_slots(domain, flow)] == ["booking_ref", "surname", "seat"]
    assert [s.name for s in flow_slots(domain, flow.model_copy(update={"verify": False}))] == ["booking_ref", "seat"]
    assert subject_key(" x7k9qz ") == "X7K9QZ"


def test_failed_checks_on_one_booking_across_conversations_lock_it_even_with_the_right_surname(
    make_runtime, redis_client
) -> None:
    rt = make_runtime()
    limit = rt.domain.identity.max_attempts_per_subject
    for n in range(limit):
        conv = f"test:guesser{n}"
        rt.handle(inbound("What is the status of my booking X7K9QZ?", conv=conv))
        replies = [o.text for o in rt.handle(inbound(f"Wrongname{chr(97 + n)}", conv=conv)).outbounds]
        assert any("can't find a booking" in r or "For your security" in r for r in replies), replies
    owner = "test:owner"
    rt.handle(inbound("What is the status of my booking X7K9QZ?", conv=owner))
    result = rt.handle(inbound("Dupont", conv=owner))
    text = " ".join(o.text for o in result.outbounds)
    assert "For your security" in text and "Camille" not in text
    # another booking is not affected
    rt.handle(inbound("What is the status of my booking K3LM8P?", conv="test:other"))
    assert "Booking K3LM8P" in " ".join(o.text for o in rt.handle(inbound("Martin", conv="test:other")).outbounds)
    # the count is kept under a hash of the reference, never the reference itself
    keys = [k.decode() if isinstance(k, bytes) else k for k in redis_client.scan_iter("*identity*")]
    assert keys and not any("X7K9QZ" in k for k in keys)


def test_the_lock_ends_when_the_window_passes(make_runtime, redis_client) -> None:
    rt = make_runtime()
    spec = rt.domain.identity
    for _ in range(spec.max_attempts_per_subject):
        rt.attempts.failed("X7K9QZ")
    assert rt.attempts.locked("x7k9qz")
    for key in redis_client.scan_iter("*identity*"):
        assert 0 < redis_client.ttl(key) <= spec.lockout_seconds
        redis_client.delete(key)  # what the expiry does
    assert not rt.attempts.locked("X7K9QZ")

"""Redaction of personal data in English and French customer sentences (pure functions)."""

from __future__ import annotations

import pytest

from bots.privacy.redaction import luhn_ok, redact

REDACTED = [
    # English
    (
        "Hi, my name is John Smith, booking X7K9QZ, call me on +44 7700 900123 or john.smith@example.co.uk",
        "Hi, my name is [NAME], booking [BOOKING], call me on [PHONE] or [EMAIL]",
    ),
    (
        "My card 4111 1111 1111 1111 was charged twice for flight NM1234",
        "My card [CARD] was charged twice for flight NM1234",
    ),
    ("Card number 5555-5555-5555-4444, expiry 09/28", "Card number [CARD], expiry 09/28"),
    ("I'm Sarah and my reference is ABC123.", "I'm [NAME] and my reference is [BOOKING]."),
    ("Please ask Mr. Jones or Dr Patel to call (415) 555-0100", "Please ask Mr. [NAME] or Dr [NAME] to call [PHONE]"),
    ("You can reach me at 020 7946 0958 after 6pm", "You can reach me at [PHONE] after 6pm"),
    ("my name is anna, PNR nm1234 please", "my name is [NAME], PNR [BOOKING] please"),
    ("Text me: 07700 900123.", "Text me: [PHONE]."),
    # French
    (
        "Bonjour, je m'appelle Marie Dupont, mon numéro est le 06 12 34 56 78",
        "Bonjour, je m'appelle [NAME], mon numéro est le [PHONE]",
    ),
    (
        "Ma réservation Q2W3E4 pour le vol AF1234 du 12/03/2025 à 14h30",
        "Ma réservation [BOOKING] pour le vol AF1234 du 12/03/2025 à 14h30",
    ),
    (
        "Écrivez à marie.dupont+vols@exemple.fr ou au 06.12.34.56.78",
        "Écrivez à [EMAIL] ou au [PHONE]",
    ),
    (
        "Ma carte 4970 1000 0000 0063 a été débitée de 1 250,00 € le 2025-03-12",
        "Ma carte [CARD] a été débitée de 1 250,00 € le 2025-03-12",
    ),
    ("Mme Lefèvre et M. Martin voyagent ensemble", "Mme [NAME] et M. [NAME] voyagent ensemble"),
    ("Numéro de dossier : k8j2mx, merci", "Numéro de dossier : [BOOKING], merci"),
    ("Appelez le +33 (0)6 12 34 56 78 ou le 0033612345678", "Appelez le [PHONE] ou le [PHONE]"),
]

UNTOUCHED = [
    "Flight NM1234 from CDG at 07:45 is delayed by 2 hours",
    "The ticket cost €120.50, or EUR120 with the discount",
    "I was charged 1 250,00 € on 12/03/2025 and again on 2025-03-14",
    "We land at 10:30, gate B12, seat 23A, on an A320",
    "HELLO I NEED HELP WITH MY BAGGAGE",
    "Order 1234567890123 is not a card (Luhn fails)",
    "I'm French and I'm OK with that, I'm Very happy",
    "Le vol AF12 part à 14h30 du terminal 2E, prix 89,99 €",
    "Je voudrais changer mon siège pour le vol du 3 mars",
    "Room 404, 2 adults, 1 child, 15 kg of luggage",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_data_is_replaced_by_tokens(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_what_is_not_personal_stays_as_written(text: str) -> None:
    assert redact(text) == text


def test_a_card_length_number_that_fails_luhn_is_not_a_card() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5555555555554444")
    assert not luhn_ok("4111111111111112")
    assert "[CARD]" not in redact("ref 4111 1111 1111 1112")


def test_redaction_is_idempotent() -> None:
    for text, _ in REDACTED:
        once = redact(text)
        assert redact(once) == once


@pytest.mark.parametrize(
    "text",
    ["a@" + "a." * 2000 + "!", "1 " * 2000, "+3 " * 1500, "my name is " + "Ana " * 1000, "AB12CD " * 600, "0" * 4000],
)
def test_long_adversarial_text_is_redacted_in_linear_time(text: str) -> None:
    import time

    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 0.5, "a pattern backtracks catastrophically"

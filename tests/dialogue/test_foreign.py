"""The foreign-language check on messages it was not tuned on (the tuning set is foreign_dev.yml)."""

from __future__ import annotations

import pytest

from bots.dialogue.foreign import UNDETERMINED, ForeignLanguage


@pytest.fixture(scope="module")
def foreign() -> ForeignLanguage:
    return ForeignLanguage(["en", "fr"])


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Entschuldigung, wo kann ich mein Gepäck abholen?", "de"),
        ("Können Sie mir bitte sagen, ob mein Flug pünktlich ist", "de"),
        ("Hola, quiero saber si mi vuelo sale a la hora prevista", "es"),
        ("Necesito ayuda con mi equipaje, por favor", "es"),
        ("Salve, ho bisogno di cambiare il mio biglietto", "it"),
        ("Buonasera, il mio bagaglio non è arrivato", "it"),
        ("Goedendag, mijn koffer is niet aangekomen op Schiphol", "nl"),
        ("Kunnen jullie mij vertellen wanneer het vliegtuig vertrekt", "nl"),
    ],
)
def test_messages_in_other_languages_are_foreign(foreign: ForeignLanguage, text: str, lang: str) -> None:
    assert foreign.detect(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "merci",
        "thanks",
        "Dupont",
        "X7K9QZ",
        "15C",
        "Camille Dupont",
        "oui merci beaucoup",
        "no thanks",
        "ok merci",
        "Schiphol please",
        "flight to Barcelona tomorrow",
        "mon vol pour Milano est annulé",
        "I'm flying to Amsterdam on Friday",
        "je voudrais une place côté hublot",
        "can I bring my dog on board?",
        "salut, j'ai perdu ma valise à Roma",
        "Marco Rossi Bianchi",
    ],
)
def test_short_and_brand_language_messages_are_not_foreign(foreign: ForeignLanguage, text: str) -> None:
    assert foreign.detect(text) is None


def test_another_script_is_foreign_without_naming_the_language(foreign: ForeignLanguage) -> None:
    assert foreign.detect("Здравствуйте, мой рейс задерживается") == UNDETERMINED
    assert foreign.detect("我的行李在哪里 请帮我 谢谢") == UNDETERMINED


def test_a_brand_speaking_german_does_not_call_german_foreign() -> None:
    assert ForeignLanguage(["en", "de"]).detect("Können Sie mir bitte sagen, ob mein Flug pünktlich ist") is None


def test_more_words_can_be_required(foreign: ForeignLanguage) -> None:
    assert foreign.detect("hola necesito ayuda urgente") == "es"
    assert foreign.detect("hola necesito ayuda urgente", min_words=5) is None

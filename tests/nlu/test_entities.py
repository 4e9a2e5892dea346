"""Every entity form, in English and French, with normalised values."""

from __future__ import annotations

from datetime import UTC

import pytest

from nlu.entities import EntityExtractor
from tests.nlu.conftest import NOW

EN = EntityExtractor("en")
FR = EntityExtractor("fr", phone_country_code="33")


def values(extractor: EntityExtractor, text: str, kind: str) -> list[object]:
    return [e.value for e in extractor.extract(text, NOW, "Europe/Paris") if e.type == kind]


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "my booking is X7K9QZ", ["X7K9QZ"]),
        (EN, "ref x7k9qz please", ["X7K9QZ"]),
        (FR, "ma réservation X7K9QZ", ["X7K9QZ"]),
        (EN, "please cancel my flight", []),  # ordinary six-letter words are not references
        (EN, "123456 is my pin", []),  # digits only: not a reference
        (FR, "annulez ma résa demain", []),
    ],
)
def test_booking_references_are_upper_cased_and_need_a_digit(extractor, text, expected) -> None:
    assert values(extractor, text, "booking_ref") == expected


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "is KL1234 on time", ["KL1234"]),
        (EN, "status of kl 1234", ["KL1234"]),
        (EN, "KL-1234 delayed?", ["KL1234"]),
        (EN, "flight NM802 to Paris", ["NM802"]),
        (FR, "le vol nm 1234 est en retard ?", ["NM1234"]),
        (FR, "le AF-1234 part à quelle heure", ["AF1234"]),
        (EN, "at 1430 we leave", []),
        (FR, "le 12 mars", []),
    ],
)
def test_flight_numbers_in_every_spelling(extractor, text, expected) -> None:
    assert values(extractor, text, "flight_number") == expected


def test_a_flight_number_is_not_also_a_booking_reference() -> None:
    kinds = [e.type for e in EN.extract("NM1234", NOW, "UTC")]
    assert kinds == ["flight_number"]


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "12A", ["12A"]),
        (EN, "seat 14 c please", ["14C"]),
        (EN, "can I have 3f", ["3F"]),
        (EN, "22 D", ["22D"]),
        (FR, "siège 14C", ["14C"]),
        (FR, "la place 7 b", ["7B"]),
        (FR, "rendez-vous à 14h", []),  # a time, not seat 14H
        (EN, "I have 2 a bags", []),
        (EN, "15 c", ["15C"]),  # a whole short answer
        (FR, " 16 d ", ["16D"]),
        (EN, "give me 10 c now", []),  # lower-case letter after a space inside a sentence: not a seat
    ],
)
def test_seats_are_row_plus_letter(extractor, text, expected) -> None:
    assert values(extractor, text, "seat") == expected


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        # NOW is Saturday 2026-11-28 (Paris)
        (EN, "tomorrow", ["2026-11-29"]),
        (EN, "today", ["2026-11-28"]),
        (EN, "the day after tomorrow", ["2026-11-30"]),
        (EN, "next monday", ["2026-11-30"]),
        (EN, "on friday", ["2026-12-04"]),
        (EN, "the 3rd of march", ["2027-03-03"]),
        (EN, "March 3", ["2027-03-03"]),
        (EN, "on 03/12", ["2026-12-03"]),
        (EN, "on 2026-12-03", ["2026-12-03"]),
        (EN, "in 3 days", ["2026-12-01"]),
        (FR, "demain", ["2026-11-29"]),
        (FR, "aujourd'hui", ["2026-11-28"]),
        (FR, "après-demain", ["2026-11-30"]),
        (FR, "lundi prochain", ["2026-11-30"]),
        (FR, "vendredi", ["2026-12-04"]),
        (FR, "le 3 mars", ["2027-03-03"]),
        (FR, "le 03/12", ["2026-12-03"]),
        (FR, "dans 3 jours", ["2026-12-01"]),
    ],
)
def test_dates_resolve_against_the_conversation_clock(extractor, text, expected) -> None:
    assert values(extractor, text, "date") == expected


def test_dates_use_the_conversation_time_zone() -> None:
    from datetime import datetime

    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # already the 29th in Tokyo
    assert [e.value for e in EN.extract("tomorrow", late, "Asia/Tokyo") if e.type == "date"] == ["2026-11-30"]
    assert [e.value for e in EN.extract("tomorrow", late, "America/New_York") if e.type == "date"] == ["2026-11-29"]


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "at 14:30", ["14:30"]),
        (EN, "around 2pm", ["14:00"]),
        (EN, "9:15 am", ["09:15"]),
        (EN, "at noon", ["12:00"]),
        (FR, "à 14h30", ["14:30"]),
        (FR, "vers 9h", ["09:00"]),
        (FR, "à midi", ["12:00"]),
    ],
)
def test_times_are_hh_mm(extractor, text, expected) -> None:
    assert values(extractor, text, "time") == expected


def test_date_and_time_together_make_a_datetime() -> None:
    ents = {e.type: e for e in FR.extract("demain à 14h30", NOW, "Europe/Paris")}
    assert ents["datetime"].value == "2026-11-29T14:30:00+01:00"
    assert ents["date"].value == "2026-11-29" and ents["time"].value == "14:30"
    en = {e.type: e.value for e in EN.extract("tomorrow at 9am", NOW, "Europe/Paris")}
    assert en["datetime"] == "2026-11-29T09:00:00+01:00"


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "flying to CDG", ["CDG"]),
        (EN, "from Amsterdam to London", ["AMS", "LHR"]),
        (EN, "to new york", ["JFK"]),
        (FR, "je vais à Londres", ["LHR"]),
        (FR, "départ de Genève", ["GVA"]),
        (EN, "flying to nice on friday", ["NCE"]),
        (EN, "have a nice day", []),  # an ordinary word, not the city
        (EN, "I AM SO MAD", []),  # shouting is not the Madrid airport code
    ],
)
def test_airports_from_codes_and_city_names(extractor, text, expected) -> None:
    assert values(extractor, text, "airport") == expected


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "mail me at Jean.Dupont@example.com", ["jean.dupont@example.com"]),
        (FR, "mon mail : marie+vol@exemple.fr", ["marie+vol@exemple.fr"]),
    ],
)
def test_emails(extractor, text, expected) -> None:
    assert values(extractor, text, "email") == expected


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "call me on +33 6 12 34 56 78", ["+33612345678"]),
        (EN, "my number is 0044 20 7946 0958", ["+442079460958"]),
        (FR, "appelez le 06 12 34 56 78", ["+33612345678"]),
        (FR, "mon numéro : 06.12.34.56.78", ["+33612345678"]),
        (EN, "on 2026-12-03", []),
    ],
)
def test_phones_are_e164(extractor, text, expected) -> None:
    assert values(extractor, text, "phone") == expected


@pytest.mark.parametrize(
    ("extractor", "text", "expected"),
    [
        (EN, "they charged me €50", [{"amount": 50.0, "currency": "EUR"}]),
        (EN, "refund 120.50 EUR", [{"amount": 120.5, "currency": "EUR"}]),
        (EN, "it cost $30", [{"amount": 30.0, "currency": "USD"}]),
        (EN, "20 pounds", [{"amount": 20.0, "currency": "GBP"}]),
        (FR, "j'ai payé 45,50 €", [{"amount": 45.5, "currency": "EUR"}]),
        (FR, "150 euros de frais", [{"amount": 150.0, "currency": "EUR"}]),
    ],
)
def test_amounts_with_currency(extractor, text, expected) -> None:
    assert values(extractor, text, "amount") == expected


def test_spans_point_into_the_text() -> None:
    text = "Booking X7K9QZ, flight kl 1234, seat 14 c, tomorrow"
    for e in EN.extract(text, NOW, "UTC"):
        assert text[e.start : e.end] == e.text


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown time zone 'Mars/Olympus'.*Europe/Paris"):
        EN.extract("tomorrow", NOW, "Mars/Olympus")


def test_dates_parse_concurrently_from_8_threads_as_they_do_serially() -> None:
    """No lock around dateparser: 8 threads (each with its own parsers) get the serial answers."""
    import threading
    from datetime import date, datetime, time, timedelta

    from nlu.entities import dates

    parse = dates._parse_cached.__wrapped__  # past the memo: every call reaches dateparser
    spans = [
        ("en", "MDY", s)
        for s in (
            "tomorrow",
            "next monday",
            "on friday",
            "the 3rd of march",
            "march 3",
            "on 03/12",
            "in 3 days",
            "the day after tomorrow",
            "next week",
            "the 5th",
        )
    ]
    spans += [
        ("fr", "DMY", s)
        for s in (
            "demain",
            "lundi prochain",
            "vendredi",
            "le 3 mars",
            "le 03/12",
            "dans 3 jours",
            "après-demain",
            "la semaine prochaine",
            "3 décembre",
        )
    ]
    jobs = [
        (span, lang, order, date(2026, 11, 28) + timedelta(days=d)) for d in range(4) for lang, order, span in spans
    ]
    serial = [parse(*job) for job in jobs]
    assert sum(d is not None for d in serial) > len(jobs) * 0.9

    start = threading.Barrier(8)
    results: dict[int, list[object]] = {}
    parsers: dict[int, object] = {}

    def worker(n: int) -> None:
        start.wait()
        order = jobs[n:] + jobs[:n]  # each thread in another order, so different spans overlap
        got = {job: parse(*job) for _ in range(3) for job in order}
        results[n] = [got[job] for job in jobs]
        parsers[n] = dates._parser("en", "MDY", datetime.combine(jobs[0][3], time(12, 0)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 8
    for n in range(8):
        assert results[n] == serial, n
    assert len({id(p) for p in parsers.values()}) == 8  # one parser per thread, nothing shared

"""Several requests in one message are cut where a new request plainly starts."""

from __future__ import annotations

import pytest

from bots.dialogue.engine import EngineOutput, merge_outputs
from bots.dialogue.requests import MAX_PARTS, split_requests, words_besides_entities
from bots.dialogue.responses import Reply
from bots.dialogue.state import DialogueState


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "what's the baggage allowance and when does check-in open?",
            ["what's the baggage allowance", "when does check-in open?"],
        ),
        (
            "Can I take my cat on board? And how much is an extra bag?",
            ["Can I take my cat on board?", "And how much is an extra bag?"],
        ),
        (
            "je voudrais changer mon siège et quelle est la franchise ?",
            ["je voudrais changer mon siège", "quelle est la franchise ?"],
        ),
        ("Hi! Can I bring my dog?", ["Hi! Can I bring my dog?"]),
        ("change my seat to 15C on X7K9QZ", ["change my seat to 15C on X7K9QZ"]),
        ("ok. thanks", ["ok. thanks"]),
        ("X7K9QZ, Dupont", ["X7K9QZ, Dupont"]),
        ("salt and pepper crisps are nice", ["salt and pepper crisps are nice"]),
    ],
)
def test_a_message_is_cut_only_where_another_request_starts(text: str, parts: list[str]) -> None:
    assert split_requests(text) == parts


def test_no_more_than_max_parts_are_cut() -> None:
    text = "What is a? What is b? What is c? What is d? What is e?"
    parts = split_requests(text)
    assert len(parts) == MAX_PARTS and parts[-1] == "What is c? What is d? What is e?"


def test_a_question_asked_by_both_requests_is_kept_where_it_comes_last() -> None:
    ask = Reply("What is your booking reference?", (), "ask_booking_ref")
    bags = Reply("Baggage allowance: ...", (), "faq:baggage_info")
    first = EngineOutput(DialogueState.fresh("c"), replies=[ask])
    then = EngineOutput(DialogueState.fresh("c"), replies=[bags, ask])
    assert merge_outputs(first, then).replies == [bags, ask]


def test_a_part_that_is_only_a_detail_is_not_a_request_of_its_own() -> None:
    from nlu.entities import EntityExtractor
    from nlu.result import NLUResult

    def parsed(text: str) -> NLUResult:
        return NLUResult(text, "fr", "booking_status", 0.9, entities=tuple(EntityExtractor("fr").extract(text)))

    assert words_besides_entities(parsed("réservation X7K9QZ")) == 1
    assert words_besides_entities(parsed("quelle est la franchise bagages ?")) == 5

"""The apology a customer gets when their message is dead-lettered: the brand's words, their language."""

from __future__ import annotations

from dataclasses import replace

from bots.dialogue.apology import BUILT_IN, TurnFailedApology
from connectors.base import Inbound


def _inbound(conversation: str = "telegram:42") -> Inbound:
    return Inbound("telegram", "42", conversation, "m7", "bonjour")


def test_the_brand_s_turn_failed_response_in_the_conversation_s_language(runtime) -> None:
    lease = runtime.store.acquire("telegram:42")
    runtime.store.save(lease, replace(lease.state, language="fr"))
    apology = TurnFailedApology("en", runtime.domain, runtime.store)
    [ob] = apology(_inbound())
    assert ob.text.startswith("Désolé, un problème de notre côté") and ob.recipient == "42"
    assert ob.idempotency_key == "telegram:m7:turn-failed" and ob.conversation_id == "telegram:42"


def test_a_new_conversation_gets_the_default_language(runtime) -> None:
    [ob] = TurnFailedApology("en", runtime.domain, runtime.store)(_inbound("telegram:new"))
    assert ob.text.startswith("Sorry, something went wrong on our side") and "member of our team" in ob.text


def test_without_a_domain_the_built_in_text_in_the_default_language() -> None:
    [ob] = TurnFailedApology("fr")(_inbound())
    assert ob.text == BUILT_IN["fr"]

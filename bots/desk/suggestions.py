"""Suggested replies for an agent (pure): canned replies and FAQ answers, ranked by intent.

Ranking by the intent of the customer's last message: the canned replies listing that
intent first, then the domain's FAQ answer for it, then the other canned replies, then
the other FAQ answers (those among the NLU's runner-up intents first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..dialogue.responses import render_response
from ..settings.dialogue import DomainSpec
from ..settings.handoff import CannedReply
from .views import Suggestion

__all__ = ["suggest", "canned_text", "SCORES"]

#: score of each tier (a runner-up intent's FAQ answer scores between "faq" and "other_faq").
SCORES = {"canned": 1.0, "faq": 0.9, "other_canned": 0.4, "other_faq": 0.1}


def canned_text(reply: CannedReply, language: str | None, default_language: str) -> str | None:
    """The reply's text in ``language``, else the brand's default language, else None."""
    if language and language in reply.text:
        return reply.text[language]
    return reply.text.get(default_language)


def _runner_ups(nlu: Mapping[str, Any] | None) -> dict[str, float]:
    ranking = (nlu or {}).get("ranking") or []
    out: dict[str, float] = {}
    for r in ranking:
        if isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("confidence"), (int, float)):
            out[r["name"]] = float(r["confidence"])
    return out


def suggest(
    canned: Sequence[CannedReply],
    domain: DomainSpec,
    nlu: Mapping[str, Any] | None,
    language: str | None,
    default_language: str,
    limit: int = 5,
) -> list[Suggestion]:
    """The top ``limit`` suggestions for a conversation whose last customer message had ``nlu``.

    Args:
        canned: ``settings.console.canned_replies``.
        domain: the bot's domain (``faq`` answers are rendered in ``language``).
        nlu: ``messages.data["nlu"]`` of the customer's last message (None: no ranking).
        language: the conversation's language (None: the default language).
    """
    intent = (nlu or {}).get("intent")
    runner_ups = _runner_ups(nlu)
    lang = language or default_language
    ranked: list[tuple[float, int, Suggestion]] = []
    for order, reply in enumerate(canned):
        text = canned_text(reply, language, default_language)
        if text is None:
            continue
        score = SCORES["canned"] if intent and intent in reply.intents else SCORES["other_canned"]
        ranked.append((score, order, Suggestion("canned", reply.title, text, reply.shortcut, score)))
    for order, (faq_intent, response) in enumerate(domain.faq.items(), start=len(canned)):
        if faq_intent == intent:
            score = SCORES["faq"]
        else:
            score = round(SCORES["other_faq"] + 0.2 * runner_ups.get(faq_intent, 0.0), 4)
        labels = domain.intent_labels.get(faq_intent, {})
        title = labels.get(lang) or labels.get(default_language) or faq_intent.replace("_", " ")
        text = render_response(response, lang, {}, faq_intent, fallback_language=default_language).text
        ranked.append((score, order, Suggestion("faq", title, text, None, score)))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    return [s for _, _, s in ranked[:limit]]

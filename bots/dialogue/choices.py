"""Pure choices the policy makes from an NLU result: slot values, the flow a bare
"inform" means, "did you mean" suggestions, the conversation's language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from nlu.result import OUT_OF_SCOPE, NLUResult

from ..settings.dialogue import Button, DomainSpec, SlotSpec
from .rules import word_count

__all__ = [
    "extract_slots",
    "loose_slot_value",
    "flow_for_entities",
    "suggestions",
    "next_language",
    "SUGGESTION_EXCLUDED",
]

#: intents never offered as "did you mean" buttons.
SUGGESTION_EXCLUDED = {OUT_OF_SCOPE, "affirm", "deny", "inform", "greet", "goodbye", "thanks", "abort"}


def extract_slots(slots: Sequence[SlotSpec], nlu: NLUResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """Slot values from the message's entities: (valid, invalid by the slot's pattern)."""
    found: dict[str, Any] = {}
    invalid: dict[str, Any] = {}
    used: set[int] = set()
    for slot in slots:
        for etype in slot.entities:
            ent = next((e for e in nlu.entities if e.type == etype and id(e) not in used), None)
            if ent is None:
                continue
            used.add(id(ent))
            value = ent.value
            if slot.pattern and not re.fullmatch(slot.pattern, str(value)):
                invalid[slot.name] = value
            else:
                found[slot.name] = value
            break
    return found, invalid


_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def loose_slot_value(slot: SlotSpec, text: str, max_words: int = 3) -> str | None:
    """The awaited slot's value in a short answer the entity extractor did not read
    ("15 c", "nm 452", "X7K 9QZ"): a word, or two adjacent words joined, upper-cased,
    that fully match the slot's pattern and hold a digit. None when unsure."""
    if not slot.pattern:
        return None
    words = _TOKEN.findall(text)
    if not words or len(words) > max_words:
        return None
    candidates = [w.upper() for w in words] + [(a + b).upper() for a, b in pairwise(words)]
    for c in candidates:
        if any(ch.isdigit() for ch in c) and re.fullmatch(slot.pattern, c):
            return c
    return None


def flow_for_entities(domain: DomainSpec, trigger: dict[str, str], nlu: NLUResult) -> str | None:
    """The flow a bare "inform" message means ("move me to 15C on X7K9QZ"), if clear.

    Candidates are flows whose slots take every slot-like entity of the message; a
    single candidate wins ("NM2210?"), else the best ranked trigger intent among them,
    if the NLU gave it any weight. A lone booking reference fits several flows and
    stays ambiguous.
    """
    slot_types = {t for f in domain.flows.values() for s in f.slots for t in s.entities}
    types = {e.type for e in nlu.entities if e.type in slot_types}
    if not types:
        return None
    fits = {name for name, f in domain.flows.items() if types <= {t for s in f.slots for t in s.entities}}
    if len(fits) == 1:
        return next(iter(fits))  # only one flow takes these (a lone flight number, a seat and a booking)
    for r in nlu.ranking:
        name = trigger.get(r.name)
        if name in fits and r.confidence >= 0.1:
            return name
    return None


#: a guess below this confidence is noise, not a suggestion ("what's the weather?" is not
#: 1% about check-in); with no guess left, the domain's first labelled intents are offered.
MIN_SUGGESTION = 0.05


def suggestions(domain: DomainSpec, trigger: dict[str, str], nlu: NLUResult, limit: int = 3) -> list[Button]:
    """Buttons for the NLU's best guesses that the bot can act on (else what it mainly does)."""

    def usable(name: str) -> bool:
        if name in SUGGESTION_EXCLUDED or name not in domain.intent_labels:
            return False
        return name in trigger or name in domain.faq or name == "human_handoff"

    names = [r.name for r in nlu.ranking if r.confidence >= MIN_SUGGESTION and usable(r.name)]
    if not names:
        names = [n for n in domain.intent_labels if usable(n) and n != "human_handoff"]
    return [Button(payload=f"/{n}", title=domain.intent_labels[n]) for n in names[:limit]]


def next_language(
    current: str | None, nlu: NLUResult, languages: tuple[str, ...], default: str, switch_min_words: int
) -> str:
    """Sticky language: set once, switched only by a message long enough to be sure of."""
    detected = nlu.language if nlu.language in languages else None
    if current is None:
        return detected or default
    if detected and detected != current and word_count(nlu.text) >= switch_min_words:
        return detected
    return current

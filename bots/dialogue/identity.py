"""The identity step: which slots a flow asks, and reading a free-text value (a surname).

Pure. A flow with ``verify: true`` asks the domain's identity slots first (booking reference,
then surname), in the identity step's order, then its own; the engine runs the identity
action before anything personal is said (:class:`bots.dialogue.engine.Engine`), and the
runtime counts failed attempts per subject across conversations (:mod:`.attempts`).
"""

from __future__ import annotations

import re

from nlu.result import NLUResult

from ..settings.dialogue import DomainSpec, FlowSpec, SlotSpec

__all__ = ["flow_slots", "free_text_value", "name_beside", "marked_value", "subject_key", "MAX_WORDS"]

#: a free-text answer longer than this is a sentence, not a name.
MAX_WORDS = 4
#: words around a name that are not the name ("my surname is Dupont", "c'est Martin").
_FILLERS = (
    "my surname is", "my last name is", "my family name is", "my name is", "the surname is", "the name is",
    "surname is", "last name is", "name is", "surname", "last name", "family name", "name", "it's", "its",
    "it is", "i'm", "i am", "this is", "it's booked under", "booked under", "the booking is under",
    "sure", "yes", "yeah", "yep", "ok", "okay", "of course", "well", "so", "oui", "bien sûr", "alors", "euh",
    "under the name of", "under the name", "in the name of", "name of", "under",
    "mon nom de famille est", "mon nom est", "le nom est", "réservé au nom de", "reserve au nom de",
    "nom de famille", "nom", "c'est", "je m'appelle", "je suis", "moi c'est", "au nom de", "sous le nom de",
)  # fmt: skip
_FILLER = re.compile(
    r"^(?:" + "|".join(re.escape(f) for f in sorted(_FILLERS, key=len, reverse=True)) + r")(?![\w'])\s*[:=]?\s*",
    re.IGNORECASE,
)
_TAIL = re.compile(r"\s*(?:please|pls|thanks|thank you|merci|svp|s'il vous pla[iî]t)\s*$", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?$", re.UNICODE)


def flow_slots(domain: DomainSpec, flow: FlowSpec) -> list[SlotSpec]:
    """The slots a flow asks, in order: the identity step's first when it verifies."""
    if not flow.verify or domain.identity is None:
        return list(flow.slots)
    ident = domain.identity.slots
    names = {s.name for s in ident}
    return [*ident, *(s for s in flow.slots if s.name not in names)]


def free_text_value(slot: SlotSpec, text: str, nlu: NLUResult | None = None) -> str | None:
    """A free-text slot's value in ``text`` (entities cut out, "my name is" and "please" dropped):
    one to :data:`MAX_WORDS` words of letters, matching the slot's pattern; None otherwise."""
    if nlu is not None:
        for e in sorted(nlu.entities, key=lambda e: e.start, reverse=True):
            text = text[: e.start] + " " + text[e.end :]
    text = re.sub(r"[,;!?()\[\]\"“”«»]+", " ", text).strip(" .")
    previous = None
    while previous != text:
        previous = text
        text = _TAIL.sub("", _FILLER.sub("", text, count=1)).strip(" .")
    words = _unspelled(text.split())
    if not words or len(words) > MAX_WORDS or not all(_NAME_WORD.match(w) for w in words):
        return None
    value = " ".join(words)
    if slot.pattern and not re.fullmatch(slot.pattern, value):
        return None
    return value


#: a name announced inside a longer message: "..., surname Dupont", "au nom de Martin".
_MARKED = re.compile(
    r"\b(?:surname|last name|family name|name is|nom de famille|au nom de|sous le nom de|je m'appelle)"
    r"\s*(?:is|est|:|=)?\s*(?P<name>[^\W\d_][^\W\d_'’-]*(?:\s+(?-i:[A-ZÀ-Ý])[^\W\d_'’-]*)?)",
    re.IGNORECASE,
)


def marked_value(slot: SlotSpec, text: str) -> str | None:
    """A free-text slot's value announced in a longer message ("move me to 15C, surname Dupont")."""
    m = _MARKED.search(text)
    if m is None:
        return None
    value = m.group("name").strip()
    if slot.pattern and not re.fullmatch(slot.pattern, value):
        return None
    return value


#: a word spelled out letter by letter: "D-U-P-O-N-T", "D.U.P.O.N.T".
_SPELLED = re.compile(r"^(?:[^\W\d_][-.]){2,}[^\W\d_]\.?$")
#: words that stand beside a booking reference without being a name ("Booking X7K9QZ").
_NOT_NAMES = frozenset(
    "booking reservation réservation reference référence ref code number numéro flight vol seat siège place "
    "hello hi hey bonjour salut yes oui ok okay sure thanks merci please svp sorry pardon my mon ma the la le".split()
)


def _unspelled(words: list[str]) -> list[str]:
    """Drop a spelling that repeats a name ("Dupont D-U-P-O-N-T"); a spelling alone is the name."""
    plain = [w for w in words if not _SPELLED.match(w)]
    if plain:
        return plain
    return ["".join(c for c in w if c.isalpha()).capitalize() for w in words]


def name_beside(slot: SlotSpec, nlu: NLUResult) -> str | None:
    """A name typed beside the awaited value ("X7K9QZ, Dupont", "Le Gall X7K9QZ"): announced
    ("surname Dupont"), or capitalised words left once the entities are cut out; never ordinary
    words ("sure, it's X7K9QZ", "réservation X7K9QZ")."""
    marked = marked_value(slot, nlu.text)
    if marked is not None:
        return marked
    value = free_text_value(slot, nlu.text, nlu)
    if value is None:
        return None
    words = value.split()
    if any(w.casefold() in _NOT_NAMES for w in words) or not any(w[0].isupper() for w in words):
        return None
    return value


def subject_key(value: object) -> str:
    """The form a subject is compared and counted in (``x7k9qz `` -> ``X7K9QZ``)."""
    return re.sub(r"\s+", "", str(value)).upper()

"""A tiny keyword NLU for the dialogue tests: deterministic, instant, no model.

It stands in for the trained NLU where a test is about the dialogue, not the
classifier (the stories also run against the real trained NLU when present).
Same interface: ``parse(text, language_hint=None, context=None) -> NLUResult``.
"""

from __future__ import annotations

import re

from nlu.result import Entity, IntentScore, NLUResult, ParseContext, Sentiment

FR_WORDS = {
    "je",
    "mon",
    "ma",
    "mes",
    "le",
    "la",
    "les",
    "siège",
    "siege",
    "réservation",
    "reservation",
    "vol",
    "bonjour",
    "merci",
    "oui",
    "non",
    "annuler",
    "changer",
    "quel",
    "quelle",
    "est",
    "pour",
    "bagages",
    "bagage",
    "à",
    "du",
    "voudrais",
    "veux",
    "place",
    "enregistrement",
    "au",
    "revoir",
    "parler",
    "conseiller",
    "humain",
    "plutôt",
    "plutot",
    "statut",
    "où",
    "en",
    "suis",
    "pas",
    "content",
    "c'est",
    "ça",
    "franchise",
    "d'accord",
    "salut",
    "retard",
    "itinéraire",
    "laisse",
    "tomber",
    "svp",
    "quoi",
    "personne",
    "une",
    "un",
    "de",
    "des",
}
EN_WORDS = {
    "i",
    "my",
    "the",
    "seat",
    "booking",
    "flight",
    "hello",
    "hi",
    "thanks",
    "thank",
    "yes",
    "no",
    "cancel",
    "change",
    "what",
    "is",
    "for",
    "baggage",
    "luggage",
    "want",
    "to",
    "check",
    "in",
    "bye",
    "talk",
    "human",
    "agent",
    "status",
    "where",
    "am",
    "not",
    "happy",
    "allowance",
    "please",
    "would",
    "like",
    "itinerary",
    "a",
    "of",
    "me",
    "move",
    "how",
    "much",
    "person",
    "can",
    "you",
    "on",
}
INTENTS: list[tuple[str, tuple[str, ...]]] = [
    ("human_handoff", ("human", "agent", "real person", "a person", "conseiller", "humain", "quelqu'un", "parler à")),
    (
        "complaint",
        ("not happy", "disgrace", "terrible", "complain", "pas content", "inadmissible", "plainte", "scandale"),
    ),
    (
        "cancel_booking",
        (
            "cancel my booking",
            "cancel booking",
            "cancel the booking",
            "annuler ma réservation",
            "annuler la réservation",
        ),
    ),
    (
        "change_seat",
        (
            "change my seat",
            "change seat",
            "another seat",
            "move me",
            "seat change",
            "changer de siège",
            "changer mon siège",
            "changer de place",
            "autre siège",
        ),
    ),
    ("baggage_info", ("baggage", "luggage", "bagage", "bagages")),
    ("checkin_info", ("check-in", "check in", "enregistrement", "enregistrer")),
    (
        "flight_status",
        ("flight status", "is flight", "is my flight", "statut du vol", "le vol", "on time", "à l'heure"),
    ),
    ("travel_details", ("itinerary", "travel details", "itinéraire", "mon voyage")),
    ("booking_status", ("my booking", "booking status", "ma réservation", "status of booking", "état de")),
    ("greet", ("hello", "hi", "bonjour", "salut")),
    ("thanks", ("thanks", "thank you", "merci")),
    ("goodbye", ("bye", "goodbye", "au revoir")),
    ("affirm", ("yes", "oui", "sure", "d'accord")),
    ("deny", ("no", "non", "nope")),
]
FLIGHT = re.compile(r"\bNM\s?\d{2,4}\b", re.I)
REF = re.compile(r"\b(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{6}\b")
SEAT = re.compile(r"\b([1-9]\d?[A-Ka-k])\b")


class RulesNLU:
    def parse(self, text: str, language_hint: str | None = None, context: ParseContext | None = None) -> NLUResult:
        low = text.lower()
        words = re.findall(r"[\w'àâçéèêëîïôûùüÿœ-]+", low)
        fr = sum(w in FR_WORDS for w in words)
        en = sum(w in EN_WORDS for w in words)
        sticky = (context.language if context else None) or language_hint or "en"
        language = "fr" if fr > en else "en" if en > fr else sticky
        ents: list[Entity] = []
        taken: list[tuple[int, int]] = []
        for typ, rx, norm in (
            ("flight_number", FLIGHT, lambda s: s.replace(" ", "").upper()),
            ("booking_ref", REF, str.upper),
            ("seat", SEAT, str.upper),
        ):
            for m in rx.finditer(text):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                ents.append(Entity(typ, norm(m.group(0)), m.group(0), m.start(), m.end()))
        ents.sort(key=lambda e: e.start)
        scores: dict[str, float] = {}
        padded = " " + re.sub(r"\b(?:l|d|j|qu|c|n|s)'", " ", re.sub(r"[^\w'-]+", " ", low)) + " "
        for intent, keys in INTENTS:
            if any(
                (f" {k} " in padded) if " " not in k and "'" not in k and "-" not in k else (k in low) for k in keys
            ):
                scores.setdefault(intent, 0.9 - 0.01 * len(scores))
        if "?" in text and not scores:
            scores["out_of_scope"] = 0.3
        if not scores:
            scores["inform" if ents else "out_of_scope"] = 0.85 if ents else 0.3
        ranking = sorted((IntentScore(k, v) for k, v in scores.items()), key=lambda s: -s.confidence)
        if ranking[0].name == "out_of_scope":
            ranking += [
                IntentScore("baggage_info", 0.2),
                IntentScore("booking_status", 0.15),
                IntentScore("change_seat", 0.1),
            ]
        neg = any(k in low for k in ("not happy", "terrible", "pas content", "inadmissible", "disgrace"))
        sentiment = Sentiment(-0.7, "negative") if neg else Sentiment(0.0, "neutral")
        return NLUResult(text, language, ranking[0].name, ranking[0].confidence, tuple(ranking), tuple(ents), sentiment)

"""What the NLU says about one message: plain, frozen, JSON-friendly data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["Entity", "IntentScore", "Sentiment", "NLUResult", "ParseContext", "OUT_OF_SCOPE"]

#: the intent name given to a message outside what the bot can do.
OUT_OF_SCOPE = "out_of_scope"

SentimentLabel = Literal["negative", "neutral", "positive"]


@dataclass(frozen=True, slots=True)
class Entity:
    """A thing mentioned in the text.

    ``type`` is one of: booking_ref, flight_number, seat, date, time, datetime,
    airport, email, phone, amount. ``value`` is normalised and JSON-able
    (``"KL1234"``, ``"14C"``, ``"2026-12-03"``, ``{"amount": 12.5, "currency": "EUR"}``).
    """

    type: str
    value: Any
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Sentiment:
    score: float  # in [-1, 1]
    label: SentimentLabel

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "label": self.label}


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the NLU needs to know about the conversation: its clock and time zone."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    timezone: str = "UTC"
    #: the conversation's current language, for stickiness on short messages.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class NLUResult:
    text: str
    language: str
    intent: str
    confidence: float
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    sentiment: Sentiment = Sentiment(0.0, "neutral")

    @property
    def is_out_of_scope(self) -> bool:
        return self.intent == OUT_OF_SCOPE

    def entities_of(self, type_: str) -> list[Entity]:
        return [e for e in self.entities if e.type == type_]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "ranking": [{"name": r.name, "confidence": round(r.confidence, 4)} for r in self.ranking],
            "entities": [e.to_dict() for e in self.entities],
            "sentiment": self.sentiment.to_dict(),
        }

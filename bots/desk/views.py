"""What the desk shows: frozen, JSON-ready views of conversations, messages and notes.

Every view has ``to_dict()`` giving plain JSON types (datetimes as ISO 8601 strings).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "ConversationSummary",
    "MessageView",
    "AttachmentView",
    "NoteView",
    "WindowInfo",
    "Suggestion",
    "PastHandoff",
    "CustomerProfile",
    "ConversationDetail",
    "ReplyResult",
    "jsonable",
]

Author = Literal["customer", "bot", "staff"]


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601, views as dicts, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, _View):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _View:
    """Base of the views (frozen dataclasses): their fields as JSON-ready values."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ConversationSummary(_View):
    """One inbox row."""

    id: str
    channel: str
    customer_id: str
    language: str | None
    mode: str
    assigned_to: int | None
    assigned_name: str | None
    waiting_since: datetime | None
    last_message_at: datetime | None
    last_preview: str | None
    handoff_reason: str | None
    created_at: datetime
    resolved_at: datetime | None
    #: seconds the customer has been waiting (mode ``waiting`` only), at query time.
    wait_seconds: int | None = None


@dataclass(frozen=True)
class AttachmentView(_View):
    """Something a customer sent besides text (see :mod:`bots.desk.attachments`)."""

    kind: str
    label: str
    detail: str = ""
    #: a web address the channel gave (http/https only), else None.
    url: str | None = None


@dataclass(frozen=True)
class MessageView(_View):
    """One transcript message; NLU fields are set on the customer's messages."""

    id: int
    direction: str
    text: str
    at: datetime
    author: Author
    staff_id: int | None = None
    author_name: str | None = None
    intent: str | None = None
    confidence: float | None = None
    sentiment_score: float | None = None
    sentiment_label: str | None = None
    kind: str | None = None
    #: delivery outcome of an agent's reply ("sent", "failed", "dead"...).
    delivery: str | None = None
    #: photos, voice notes, locations... the customer sent.
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class NoteView(_View):
    """A private note (never sent to the customer)."""

    id: int
    conversation_id: str
    staff_id: int
    author_name: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class WindowInfo(_View):
    """A channel's reply window (WhatsApp: 24 hours after the customer's last message)."""

    open: bool
    closes_at: datetime | None
    #: message kinds with an approved template, usable when the window is closed.
    templates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion(_View):
    """A reply the agent may send: a canned reply or the domain's FAQ answer."""

    source: Literal["canned", "faq"]
    title: str
    text: str
    shortcut: str | None
    score: float


@dataclass(frozen=True)
class PastHandoff(_View):
    """A mode change to ``waiting``/``human``/``resolved`` found in the audit log."""

    at: datetime
    mode: str
    reason: str | None
    actor: str


@dataclass(frozen=True)
class CustomerProfile(_View):
    """What is known about the customer of a conversation."""

    channel: str
    customer_id: str
    language: str | None
    first_seen: datetime
    messages: int
    handoffs: int
    resolutions: int
    history: tuple[PastHandoff, ...] = ()


@dataclass(frozen=True)
class ConversationDetail(_View):
    """Everything the conversation view shows."""

    summary: ConversationSummary
    messages: tuple[MessageView, ...]
    notes: tuple[NoteView, ...]
    #: the current flow's slots over the remembered values (``memory``).
    slots: dict[str, Any]
    flow: str | None
    profile: CustomerProfile
    window: WindowInfo | None
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class ReplyResult(_View):
    """What an agent's reply did: its transcript message and its delivery."""

    message: MessageView
    #: "sent", "duplicate", "failed" or "dead".
    status: str
    #: why a failed / dead reply was not delivered.
    reason: str | None = None
    #: the reply took the conversation over from the bot (or the queue).
    took_over: bool = False

    @property
    def delivered(self) -> bool:
        return self.status in ("sent", "duplicate")

"""The channel-neutral message model and the connector interface.

``connectors`` never imports ``bots`` nor ``nlu``: the runtime composes them.
Every type here is plain data that survives a round trip through JSON
(``to_dict`` / ``from_dict``) so it can travel on the inbound stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Attachment",
    "Inbound",
    "QuickReply",
    "Template",
    "Outbound",
    "WebhookRequest",
    "ChannelRules",
    "Connector",
    "ResolvesInbound",
    "NotesInbound",
    "Closable",
    "ChecksCredentials",
    "Reconciles",
    "ShowsTyping",
    "StaffWindow",
    "Reachable",
]

AttachmentKind = Literal["image", "document", "audio", "video", "location", "sticker", "contact"]
#: message: a customer wrote or sent something; callback: a button was pressed;
#: edit: a message was changed; event: join/leave/status; ignored kinds still parse.
InboundKind = Literal["message", "callback", "edit", "event"]
#: who wrote an Outbound.
Author = Literal["bot", "staff"]


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: AttachmentKind
    url: str | None = None
    file_id: str | None = None
    mime_type: str | None = None
    name: str | None = None
    caption: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Attachment:
        return cls(**d)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a customer did on a channel, in channel-neutral form.

    ``message_id`` is the channel's own id (Telegram ``update_id``, Twilio
    ``MessageSid``) and is what dedupe keys on. ``conversation_id`` is unique
    across channels (``"telegram:12345"``, ``"whatsapp:+3161234"``).
    """

    channel: str
    sender_id: str
    conversation_id: str
    message_id: str
    text: str = ""
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    kind: InboundKind = "message"
    attachments: tuple[Attachment, ...] = ()
    #: payload of a pressed button (quick reply), if any.
    payload: str | None = None
    #: name or handle the channel gives, for the agent console.
    sender_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    #: what happened, for ``kind="event"`` (and set on keyword messages): ``"opt_out"``,
    #: ``"opt_in"``, ``"help"`` (SMS keywords, already recorded by the connector),
    #: ``"member_joined"``, ``"member_left"``, ``"bot_blocked"``, ``"bot_unblocked"``...
    event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "sender_id": self.sender_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "text": self.text,
            "timestamp": self.timestamp.isoformat(),
            "kind": self.kind,
            "attachments": [a.to_dict() for a in self.attachments],
            "payload": self.payload,
            "sender_name": self.sender_name,
            "raw": dict(self.raw),
            "event": self.event,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Inbound:
        data = dict(d)
        data["timestamp"] = datetime.fromisoformat(data["timestamp"])
        data["attachments"] = tuple(Attachment.from_dict(a) for a in data.get("attachments", ()))
        return cls(**data)


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A button: ``title`` is shown, ``payload`` comes back when pressed."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Template:
    """A pre-approved template (WhatsApp outside the 24-hour window)."""

    content_sid: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to send to a customer on one channel."""

    channel: str
    recipient: str
    text: str = ""
    quick_replies: tuple[QuickReply, ...] = ()
    template: Template | None = None
    media: tuple[Attachment, ...] = ()
    #: what the message is for (reply, notification, handoff...); picks a
    #: WhatsApp template outside the window.
    kind: str = "reply"
    #: stable key (inbound message id + reply index) so a redone turn never sends twice.
    idempotency_key: str | None = None
    conversation_id: str | None = None
    #: who wrote it: the bot, or a member of staff (Messenger's human-agent tag allows staff
    #: replies for 7 days after the customer's last message, the bot's for 24 hours).
    author: Author = "bot"
    #: named values a channel template may use as ``{name}`` besides ``{text}``, ``{recipient}``
    #: and ``{kind}`` (a notification's ``{flight}``, ``{status}``...).
    variables: Mapping[str, str] = field(default_factory=dict)
    #: the customer's language (``"fr"``), when known: picks a template's variant in that language.
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "recipient": self.recipient,
            "text": self.text,
            "quick_replies": [[q.title, q.payload] for q in self.quick_replies],
            "template": None
            if self.template is None
            else {"content_sid": self.template.content_sid, "variables": dict(self.template.variables)},
            "media": [a.to_dict() for a in self.media],
            "kind": self.kind,
            "idempotency_key": self.idempotency_key,
            "conversation_id": self.conversation_id,
            "author": self.author,
            "variables": dict(self.variables),
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outbound:
        """The Outbound of :meth:`to_dict`'s dict (one stored before ``variables`` and
        ``language`` existed gets none)."""
        data = dict(d)
        data["variables"] = dict(data.get("variables") or {})
        data["quick_replies"] = tuple(QuickReply(t, p) for t, p in data.get("quick_replies", ()))
        tpl = data.get("template")
        data["template"] = Template(tpl["content_sid"], tpl.get("variables", {})) if tpl else None
        data["media"] = tuple(Attachment.from_dict(a) for a in data.get("media", ()))
        return cls(**data)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request as a connector sees it: no web framework leaks in.

    ``url`` is the full URL the channel called (what Twilio signs);
    ``form`` holds decoded form fields for urlencoded bodies.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    form: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers.items():
            if k.lower() == low:
                return v
        return None


@dataclass(frozen=True, slots=True)
class ChannelRules:
    """What the engine may ask a channel about, instead of hard-coding it."""

    max_text_length: int
    supports_buttons: bool
    max_buttons: int = 0
    #: seconds after the customer's last message in which free text may be sent (None: always).
    reply_window_seconds: int | None = None
    #: quick replies are accepted but shown as numbered text options ("1. Yes") that the
    #: customer answers with the number (up to ``max_buttons``), instead of buttons.
    numbered_options: bool = False
    #: a send may go out as several channel messages: its delivery id lists their ids,
    #: comma-separated, and each gets its own status callbacks (Twilio).
    status_callbacks: bool = False


@runtime_checkable
class Connector(Protocol):
    """One channel: verify and parse inbound requests, send outbound messages."""

    channel: str
    rules: ChannelRules

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        """Verify and parse a webhook request.

        Raises:
            ForgedRequest: the signature or secret does not match (answer 403).
            MalformedRequest: the body cannot be parsed (answer 400).
        """
        ...

    def send(self, message: Outbound) -> str:
        """Send one message; return the channel's delivery id.

        Raises:
            TransientSendError: worth retrying (5xx, timeout, 429; ``retry_after`` set).
            PermanentSendError: never worth retrying (bad recipient, opted out, window closed).
        """
        ...


# -- what a connector may do besides parse and send (checked with isinstance) ----------


@runtime_checkable
class ResolvesInbound(Protocol):
    """A connector with channel state to apply before the turn, in the worker (where one
    conversation's messages come in order): Twilio's 24-hour window, SMS keywords, numbered options."""

    def resolve(self, inbound: Inbound) -> Inbound: ...


@runtime_checkable
class NotesInbound(Protocol):
    """A connector that only records that the customer wrote (a reply window, a last-seen time)."""

    def note_inbound(self, inbound: Inbound) -> None: ...


@runtime_checkable
class Closable(Protocol):
    """A connector holding resources (an event loop, HTTP sessions) to release at exit."""

    def close(self) -> None: ...


@runtime_checkable
class ChecksCredentials(Protocol):
    """A connector that can check its credentials against the channel's API (``brandbot doctor``)."""

    def check_credentials(self) -> str | None: ...


@runtime_checkable
class Reconciles(Protocol):
    """A connector that can ask its channel whether a send whose outcome is unknown went out."""

    def reconcile(self, message: Outbound, since: datetime) -> str | None:
        """The delivery id if the channel accepted every part of ``message`` at or after
        ``since`` (the first recorded intent to send it), else None.

        Parts found are remembered, so the next :meth:`~connectors.base.Connector.send`
        sends only the others.

        Raises:
            TransientSendError: the channel cannot be asked now (retry later).
        """
        ...


@runtime_checkable
class ShowsTyping(Protocol):
    """A connector that can show the customer that an answer is being written (Messenger,
    Instagram, WhatsApp Cloud). Best effort: neither method raises."""

    def typing(self, inbound: Inbound) -> None:
        """Show "typing..." in answer to ``inbound`` (the turn starts)."""
        ...

    def typing_done(self, inbound: Inbound) -> None:
        """The turn sent nothing (a person has the conversation): stop showing it, where the channel can."""
        ...


@runtime_checkable
class StaffWindow(Protocol):
    """A channel where staff may answer for longer than the bot (Messenger and Instagram's
    human-agent tag: 7 days after the customer's last message, the bot 24 hours)."""

    def staff_may_reply(self, recipient: str) -> bool: ...


@runtime_checkable
class Reachable(Protocol):
    """A connector that knows recipients it must not send to now (an SMS number that opted
    out, a Telegram chat that blocked the bot), so a proactive message can be refused up front."""

    def unreachable(self, recipient: str) -> str | None:
        """A sentence saying why nothing can be sent to ``recipient`` now, or None.

        Raises:
            redis.RedisError: the channel state cannot be read.
        """
        ...

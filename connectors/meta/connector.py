"""Messenger, Instagram and WhatsApp through Meta's Graph API: one webhook, one connector per channel.

The three connectors share the signed webhook (any of them parses a delivery for all three:
the pipeline routes each Inbound by its channel), the Graph client, the Redis state (reply
window, offered buttons) and the send log. They differ in what a send looks like and in
what their window allows:

- Messenger and Instagram: free replies within 24 hours of the customer's last message
  (``messaging_type: RESPONSE``); after that, only staff, for 7 days, with the
  ``HUMAN_AGENT`` tag; anything else is refused before any API call.
- WhatsApp Cloud: free replies within 24 hours; after that the message kind's approved
  template (``channels.meta.whatsapp.templates``), or a refusal naming the missing one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import redis

from .._channel_state import ChannelState
from .._ratelimit import Rate, RateLimited, RedisRateLimiter
from .._sendlog import SendLog
from .._template_text import check_placeholders, fill, pick_language
from .._text import match_option, render_numbered, split_text
from ..base import ChannelRules, Inbound, Outbound, QuickReply, WebhookRequest
from ..errors import PermanentSendError, TransientSendError
from .graph import GraphClient, GraphError
from .parse import GET_STARTED, MetaAccounts, MetaDelivery, MetaStatus, parse_delivery
from .signature import SIGNATURE_HEADER, verify_signature

log = logging.getLogger(__name__)

__all__ = [
    "MetaConnector",
    "MessengerConnector",
    "InstagramConnector",
    "WhatsAppCloudConnector",
    "CloudTemplate",
    "MetaOptions",
    "DAY",
    "META_CHANNELS",
]

DAY = 24 * 3600
#: the channels of this family, in the order the webhook looks for an enabled one.
META_CHANNELS = ("messenger", "instagram", "whatsapp_cloud")
#: Graph codes meaning "outside the window": Messenger 10/2018278, WhatsApp 131047 (re-engagement).
WINDOW_CLOSED = frozenset({2018278, 131047})
#: the person cannot get messages now: Messenger 551 (unavailable), WhatsApp 131026 (undeliverable).
UNREACHABLE = frozenset({551, 131026})
#: Messenger quick replies: at most 13, titles at most 20 characters.
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
#: WhatsApp interactive messages: 3 reply buttons (20 characters), lists of 10 rows (24), body 1024.
MAX_WA_BUTTONS = 3
MAX_WA_ROWS = 10
MAX_WA_ROW_TITLE = 24
MAX_WA_BODY = 1024
_MEDIA_TYPE = {"image": "image", "video": "video", "audio": "audio", "document": "file"}


def _title(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class CloudTemplate:
    """An approved WhatsApp template: its ``name``, ``language`` code and body variables
    (format strings over ``{text}``, ``{recipient}``, ``{kind}`` and the Outbound's own
    ``variables``, ``{flight}``, in order).

    ``languages`` maps an Outbound's language (``"fr"``) to the WhatsApp language code the
    template is approved in (``"fr"``, ``"en_US"``); a message in another language, or in
    none, gets ``language``.
    """

    name: str
    language: str = "en"
    variables: Sequence[str] = ()
    languages: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a WhatsApp template needs its name (as approved in WhatsApp Manager)")
        check_placeholders(self.variables, allowed=None)

    def render(self, message: Outbound) -> dict[str, Any]:
        """The ``template`` object of a send of ``message``.

        Raises:
            ValueError: a variable names a value the message does not have.
        """
        code = pick_language(self.languages, message.language) or self.language
        body: dict[str, Any] = {"name": self.name, "language": {"code": code}}
        if self.variables:
            parameters = [{"type": "text", "text": fill(v, message, 1024)} for v in self.variables]
            body["components"] = [{"type": "body", "parameters": parameters}]
        return body


@dataclass(frozen=True)
class MetaOptions:
    """What the three connectors share (``channels.meta``)."""

    accounts: MetaAccounts
    app_secret: str
    key_prefix: str = "bb"
    get_started_payload: str = GET_STARTED
    window_seconds: int = DAY
    human_agent_seconds: int = 7 * DAY
    #: sends per second over all customers of one account (Meta's limits are per page / number).
    overall: Rate = field(default_factory=lambda: Rate(80))
    max_rate_wait: float = 5.0
    #: when Meta says "rate limited" without a Retry-After, retry after this many seconds.
    rate_limit_retry_seconds: float = 60.0
    options_ttl_seconds: int = DAY
    typing_timeout: float = 2.0


class MetaConnector:
    """What Messenger, Instagram and WhatsApp Cloud share.

    Args:
        graph: the Graph API client.
        account_id: this channel's id on Meta (page id, Instagram account id, phone number id).
        redis: Redis client.
        options: the shared settings.
        clock: seconds since the epoch (the window; injected in tests).
        sleep: how the rate limiter waits.
    """

    channel = "meta"
    rules = ChannelRules(max_text_length=2000, supports_buttons=True, max_buttons=MAX_QUICK_REPLIES)

    def __init__(
        self,
        graph: GraphClient,
        account_id: str,
        redis: redis.Redis,
        options: MetaOptions,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not account_id:
            raise ValueError(f"{type(self).__name__}: the account id is empty")
        self.graph = graph
        self.account_id = account_id
        self.options = options
        prefix = f"{options.key_prefix}:meta"
        # the last-inbound time must outlive the human-agent days (ChannelState keeps it its window + 1 h)
        kept = max(options.window_seconds, options.human_agent_seconds)
        self.state = ChannelState(redis, prefix, clock, kept, options.options_ttl_seconds)
        self._window = options.window_seconds
        self._sent = SendLog(redis, prefix)
        self._limiter = RedisRateLimiter(redis, f"{prefix}:rl", sleep=sleep, clock=clock)

    # -- inbound (shared) ----------------------------------------------------------------
    def parse_delivery(self, request: WebhookRequest) -> MetaDelivery:
        """Verify ``X-Hub-Signature-256`` and parse a delivery (messages and statuses of all three).

        Raises:
            ForgedRequest: unsigned or wrongly signed (403).
            MalformedRequest: not a Graph webhook body (400).
        """
        verify_signature(request.body, request.header(SIGNATURE_HEADER), self.options.app_secret)
        return parse_delivery(request.body, self.options.accounts, get_started_payload=self.options.get_started_payload)

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        """The Inbounds of a verified delivery (statuses are read by :meth:`parse_delivery`)."""
        return self.parse_delivery(request).inbounds

    def resolve(self, inbound: Inbound) -> Inbound:
        """Before the turn, in the worker: note the window; a typed answer matching an offered
        button ("2", or its title) becomes the button's ``callback``. Idempotent."""
        at = inbound.timestamp.timestamp()
        if inbound.kind != "message" or inbound.payload is not None or not inbound.text:
            self.state.note_inbound(inbound.conversation_id, at)
            return inbound
        _, options = self.state.lookup(inbound.conversation_id, note_at=at, options=True)
        picked = match_option(inbound.text, options) if options else None
        if picked is not None:
            return replace(inbound, kind="callback", payload=picked.payload, text=picked.title)
        return inbound

    def note_status(self, status: MetaStatus) -> None:
        """A WhatsApp status: a send refused for the window (131047) closes our record of it."""
        if status.error_code is None:
            return
        conv = f"whatsapp_cloud:{status.recipient}"
        if status.error_code in {str(c) for c in WINDOW_CLOSED}:
            self.state.close_window(conv)
        log.warning(
            "whatsapp_cloud message %s to %s %s (error %s: %s)",
            status.message_id[:80],
            conv,
            status.status,
            status.error_code,
            status.error_title,
        )

    def note_inbound(self, inbound: Inbound) -> None:
        self.state.note_inbound(inbound.conversation_id, inbound.timestamp.timestamp())

    def _since_last(self, conversation: str) -> float | None:
        last = self.state.last_inbound(conversation)
        return None if last is None else self.state.clock() - last

    def window_open(self, recipient: str) -> bool:
        """Whether the bot may send free text to ``recipient`` now (24 hours after their last message)."""
        since = self._since_last(self._conversation(recipient))
        return since is not None and since < self._window

    def _conversation(self, recipient: str) -> str:
        return f"{self.channel}:{recipient}"

    # -- typing ----------------------------------------------------------------------------
    def typing(self, inbound: Inbound) -> None:
        """Show "typing..." while the turn runs (best effort: a failure is logged, never raised)."""
        self._indicate(inbound, self._typing_body(inbound), "typing")

    def typing_done(self, inbound: Inbound) -> None:
        """Messenger and Instagram: ``typing_off`` (a turn that sent nothing)."""
        self._indicate(inbound, self._typing_body(inbound) | {"sender_action": "typing_off"}, "typing_off")

    def _indicate(self, inbound: Inbound, body: Mapping[str, Any], what: str) -> None:
        try:
            self.graph.post(
                f"{self.account_id}/messages",
                body,
                f"{self.channel} {what} to {inbound.conversation_id}",
                timeout=self.options.typing_timeout,
            )
        except Exception as exc:  # noqa: BLE001 - an indicator is never worth failing a turn
            log.debug("%s: no %s for %s: %s", self.channel, what, inbound.conversation_id, exc)

    def _typing_body(self, inbound: Inbound) -> dict[str, Any]:
        return {"recipient": {"id": inbound.sender_id}, "sender_action": "typing_on"}

    # -- outbound --------------------------------------------------------------------------
    def _bodies(self, conversation: str, message: Outbound) -> list[dict[str, Any]]:
        """The JSON body of each API call of one send.

        Raises:
            PermanentSendError: the window refuses it, or there is nothing to send.
        """
        raise NotImplementedError

    def _message_id(self, answer: Mapping[str, Any]) -> str | None:
        got = answer.get("message_id")
        return got if isinstance(got, str) and got else None

    def send(self, message: Outbound) -> str:
        """Send one message (several API calls when the text is split or carries media).

        Returns:
            The message ids, comma-separated.

        Raises:
            PermanentSendError: outside the window (no API call made), and Graph errors that
                retrying cannot fix (bad recipient, unreachable person, invalid message).
            OutcomeUnknown: the answer was lost: the message may have gone (Graph cannot be
                asked; the retry may send it twice).
            TransientSendError: Graph unreachable, 5xx, rate limited (``retry_after`` set).
        """
        conv = self._conversation(message.recipient)
        sent_before = self._sent.load(conv, message.idempotency_key)
        if sent_before.done is not None:
            log.info(
                "%s: %s already sent as %s; not sending twice", self.channel, message.idempotency_key, sent_before.done
            )
            return sent_before.done
        bodies = self._bodies(conv, message)
        ids: list[str] = []
        for index, body in enumerate(bodies):
            already = sent_before.part(index)
            if already is None:
                already = self._post(conv, body)
                self._sent.record_part(conv, message.idempotency_key, index, already)
            ids.append(already)
        self.state.offer(conv, message.quick_replies)
        delivery = ",".join(ids)
        self._sent.complete(conv, message.idempotency_key, delivery)
        return delivery

    def _post(self, conv: str, body: Mapping[str, Any]) -> str:
        what = f"{self.channel} to {conv}"
        try:
            self._limiter.acquire(
                [(self.options.overall, f"{self.channel}:{self.account_id}")], self.options.max_rate_wait
            )
        except RateLimited as exc:
            raise TransientSendError(
                f"{what}: our own rate limit is full ({exc})", "rate_limited", exc.retry_after
            ) from exc
        try:
            answer = self.graph.post(f"{self.account_id}/messages", body, what)
        except GraphError as exc:
            raise self._translate(conv, exc) from exc
        got = self._message_id(answer)
        if got is None:
            raise PermanentSendError(f"{what}: the Graph API accepted the message but returned no message id")
        return got

    def _translate(self, conv: str, exc: GraphError) -> Exception:
        label = f"{self.channel} to {conv}: {exc}"
        code = str(exc.code if exc.code is not None else exc.status)
        if exc.rate_limited:
            wait = exc.retry_after if exc.retry_after is not None else self.options.rate_limit_retry_seconds
            log.warning("%s; rate limited by Meta, retrying in %.0f s", label, wait)
            return TransientSendError(label, code, wait)
        if exc.transient:
            return TransientSendError(label, code, exc.retry_after)
        if exc.code in WINDOW_CLOSED or exc.subcode in WINDOW_CLOSED:
            self.state.close_window(conv)
            log.warning("%s; outside the customer service window", label)
            return PermanentSendError(label, code="window_closed")
        if exc.code in UNREACHABLE:
            log.warning("%s; the person cannot get messages now; not retried", label)
        return PermanentSendError(label, code=code)

    # -- administration ----------------------------------------------------------------------
    def check_credentials(self) -> str | None:
        """Read this channel's account with the token: None when it works, else what is wrong."""
        try:
            got = self.graph.get(self.account_id, {"fields": "id,name"}, f"{self.channel} doctor")
        except GraphError as exc:
            return f"the Graph API refused the token for {self.channel} account {self.account_id}: {exc}"
        except TransientSendError as exc:
            return str(exc)
        if str(got.get("id")) != self.account_id:
            return f"the Graph API answered for account {got.get('id')!r}, not {self.account_id!r}"
        return None

    def close(self) -> None:
        self.graph.close()


class _PageConnector(MetaConnector):
    """Messenger and Instagram: the Send API's shape and the human-agent window."""

    def staff_may_reply(self, recipient: str) -> bool:
        """Whether staff may still answer ``recipient`` (7 days with the human-agent tag)."""
        since = self._since_last(self._conversation(recipient))
        return since is not None and since < self.options.human_agent_seconds

    def _window_fields(self, conv: str, message: Outbound) -> dict[str, Any]:
        since = self._since_last(conv)
        if since is not None and since < self._window:
            return {"messaging_type": "RESPONSE"}
        if message.author == "staff" and since is not None and since < self.options.human_agent_seconds:
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        days = self.options.human_agent_seconds // DAY
        last = "never wrote" if since is None else f"last wrote {since / 3600:.0f} hours ago"
        raise PermanentSendError(
            f"{self.channel} to {conv}: outside the 24-hour window (the customer {last}); "
            f"only staff may answer, within {days} days, with the human-agent tag",
            code="window_closed",
        )

    def _bodies(self, conversation: str, message: Outbound) -> list[dict[str, Any]]:
        head = {"recipient": {"id": message.recipient}, **self._window_fields(conversation, message)}
        options = message.quick_replies
        text = message.text
        if len(options) > MAX_QUICK_REPLIES:
            text, options = render_numbered(text, options), ()
        chunks = split_text(text, self.rules.max_text_length) if text.strip() else []
        bodies: list[dict[str, Any]] = [{**head, "message": {"text": c}} for c in chunks]
        for media in message.media:
            kind = _MEDIA_TYPE.get(media.kind)
            if kind is None or not media.url:
                raise PermanentSendError(f"{self.channel}: cannot send a {media.kind} without a public url")
            payload = {"url": media.url, "is_reusable": True}
            bodies.append({**head, "message": {"attachment": {"type": kind, "payload": payload}}})
        if not bodies:
            raise PermanentSendError(f"{self.channel}: nothing to send (empty text and no media)")
        if options:
            last = next(b for b in reversed(bodies) if "text" in b["message"]) if chunks else bodies[-1]
            last["message"]["quick_replies"] = [
                {"content_type": "text", "title": _title(q.title, MAX_TITLE), "payload": q.payload} for q in options
            ]
        return bodies


class MessengerConnector(_PageConnector):
    """Facebook Messenger (a page's inbox)."""

    channel = "messenger"
    rules = ChannelRules(
        max_text_length=2000, supports_buttons=True, max_buttons=MAX_QUICK_REPLIES, reply_window_seconds=DAY
    )


class InstagramConnector(_PageConnector):
    """Instagram Direct (a professional account's messages)."""

    channel = "instagram"
    rules = ChannelRules(
        max_text_length=1000, supports_buttons=True, max_buttons=MAX_QUICK_REPLIES, reply_window_seconds=DAY
    )


class WhatsAppCloudConnector(MetaConnector):
    """WhatsApp on Meta's Cloud API: buttons and lists, templates outside the 24-hour window.

    Extra args:
        templates: per message kind, the template sent when the window is closed.
    """

    channel = "whatsapp_cloud"
    rules = ChannelRules(
        max_text_length=4096,
        supports_buttons=True,
        max_buttons=MAX_WA_ROWS,
        reply_window_seconds=DAY,
        status_callbacks=True,
    )

    def __init__(self, *args: Any, templates: Mapping[str, CloudTemplate] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._templates = dict(templates or {})

    def template_kinds(self) -> tuple[str, ...]:
        """The message kinds with an approved template (sendable outside the window)."""
        return tuple(sorted(self._templates))

    def _typing_body(self, inbound: Inbound) -> dict[str, Any]:
        # WhatsApp shows "typing..." with a read receipt of the message being answered
        return {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": inbound.message_id,
            "typing_indicator": {"type": "text"},
        }

    def typing(self, inbound: Inbound) -> None:
        if inbound.message_id.startswith("wamid."):  # a pressed button too; nothing else has a message to mark
            super().typing(inbound)

    def typing_done(self, inbound: Inbound) -> None:
        """Nothing to do: WhatsApp's indicator goes by itself (25 seconds) and has no "off"."""

    def _message_id(self, answer: Mapping[str, Any]) -> str | None:
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            got = messages[0].get("id")
            return got if isinstance(got, str) and got else None
        return None

    def _bodies(self, conversation: str, message: Outbound) -> list[dict[str, Any]]:
        head = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.recipient.lstrip("+")}
        if not self.window_open(message.recipient):
            spec = self._templates.get(message.kind)
            if spec is None:
                raise PermanentSendError(
                    f"whatsapp_cloud to {conversation}: the 24-hour window is closed and no template is configured "
                    f"for kind {message.kind!r} (configured: {sorted(self._templates)}); add "
                    f"channels.meta.whatsapp.templates.{message.kind}",
                    code="window_closed",
                )
            try:
                template = spec.render(message)
            except ValueError as exc:
                raise PermanentSendError(
                    f"whatsapp_cloud to {conversation}: template for kind {message.kind!r}: {exc}",
                    code="template_variables",
                ) from exc
            return [{**head, "type": "template", "template": template}]
        options = message.quick_replies
        text = message.text
        if len(options) > MAX_WA_ROWS:
            text, options = render_numbered(text, options), ()
        chunks = split_text(text, MAX_WA_BODY if options else self.rules.max_text_length) if text.strip() else []
        bodies: list[dict[str, Any]] = [
            {**head, "type": "text", "text": {"body": c, "preview_url": False}} for c in chunks
        ]
        if options:
            body = chunks[-1] if chunks else "…"
            interactive = _interactive(body, options)
            if bodies:
                bodies[-1] = {**head, "type": "interactive", "interactive": interactive}
            else:
                bodies.append({**head, "type": "interactive", "interactive": interactive})
        for media in message.media:
            kind = media.kind if media.kind in ("image", "video", "audio", "document") else None
            if kind is None or not media.url:
                raise PermanentSendError(f"whatsapp_cloud: cannot send a {media.kind} without a public url")
            item: dict[str, Any] = {"link": media.url}
            if media.caption and kind != "audio":
                item["caption"] = media.caption
            if kind == "document" and media.name:
                item["filename"] = media.name
            bodies.append({**head, "type": kind, kind: item})
        if not bodies:
            raise PermanentSendError("whatsapp_cloud: nothing to send (empty text and no media)")
        return bodies


def _interactive(body: str, options: Sequence[QuickReply]) -> dict[str, Any]:
    """Reply buttons (up to 3) or a list (up to 10 rows) offering ``options``."""
    if len(options) <= MAX_WA_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": q.payload, "title": _title(q.title, MAX_TITLE)}} for q in options]
        return {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    rows = [{"id": q.payload, "title": _title(q.title, MAX_WA_ROW_TITLE)} for q in options]
    return {
        "type": "list",
        "body": {"text": body},
        # "Options" reads the same in English and French
        "action": {"button": "Options", "sections": [{"title": "Options", "rows": rows}]},
    }

"""WhatsApp and SMS through Twilio Messaging: one webhook, one connector per channel.

Both connectors parse the same Messaging webhook (``whatsapp:`` senders become
channel "whatsapp", others "sms"), so the pipeline may hand a request to either.
They compose ``twilio.rest.Client`` (never inherit it); the HTTP client is the
seam that points it at ``api_base_url``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import redis
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from .._channel_state import ChannelState
from .._ratelimit import Rate, RateLimited, RedisRateLimiter
from .._sendlog import Accepted, SendLog, match_parts
from .._text import match_option, render_numbered, split_text
from ..base import ChannelRules, Inbound, Outbound, Template, WebhookRequest
from ..errors import OutcomeUnknown, PermanentSendError, TransientSendError
from .http import TWILIO_API, BaseUrlHttpClient, request_may_have_arrived
from .keywords import KeywordConfig, classify_keyword
from .parse import StatusUpdate, bare_number, form_of, parse_message_form, parse_status_form, verify_signature
from .templates import TemplateSpec, render_template

log = logging.getLogger(__name__)

__all__ = ["TwilioConnector", "WhatsAppConnector", "SmsConnector", "make_twilio_client"]

#: Twilio refuses bodies over 1600 characters (error 21617).
MAX_BODY = 1600
OPT_OUT_CODE = 21610
WINDOW_CLOSED_CODE = 63016
WHATSAPP_UNDELIVERABLE = 63014
RETRYABLE_CODES = {20429, 20500, 20503, 30001}
#: how far before the recorded intent a message found by :meth:`TwilioConnector.reconcile` may
#: have been created: Twilio stamps whole seconds and its clock is not ours. Messages our
#: send log attributes to other sends are excluded, so a wide margin costs nothing.
RECONCILE_SKEW = timedelta(seconds=60)
#: latest messages to one number looked at when reconciling (one page).
RECONCILE_LIMIT = 50
#: the code of the TransientSendError raised when the sender's own rate limit is full.
RATE_LIMITED_CODE = "rate_limited"
#: the code of the PermanentSendError raised when a template variable has no value.
TEMPLATE_VARIABLES_CODE = "template_variables"


def make_twilio_client(
    account_sid: str, auth_token: str, api_base_url: str = TWILIO_API, timeout: float = 10.0
) -> Client:
    """A twilio REST client whose calls go to ``api_base_url``."""
    if not account_sid or not auth_token:
        raise ValueError("Twilio account_sid and auth_token must be set (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
    return Client(account_sid, auth_token, http_client=BaseUrlHttpClient(api_base_url, timeout=timeout))


class TwilioConnector:
    """What WhatsApp and SMS share: the webhook, the Redis state, the REST client.

    Args:
        account_sid: ``AC...``.
        auth_token: signs webhooks and authenticates API calls.
        sender: the ``From`` of this channel (``whatsapp:+31...`` / ``+31...`` or ``MG...``
            for a Messaging Service).
        redis: Redis client.
        key_prefix: ``stores.key_prefix``.
        api_base_url: Twilio's API or a local fake.
        public_url: base URL Twilio calls (behind a proxy); empty: the request's own URL.
        status_callback_url: where Twilio posts delivery statuses; empty: none requested.
        keywords: SMS keyword lists (Twilio's plus configured ones).
        window_seconds: WhatsApp customer service window.
        options_ttl_seconds: how long numbered options stay answerable.
        max_text_length: longest body of one message (Twilio: 1600).
        timeout: seconds for one API call.
        clock: seconds since the epoch.
        client: a ready twilio Client (else one is made for ``api_base_url``).
        rate: messages per sender (``sender``), over every process (each part of a split
            text counts): Twilio queues what a number cannot send at once, for a while.
        max_rate_wait: seconds a send may wait for a rate slot before raising TransientSendError.
        sleep: how the rate limiter waits (injected in tests).
    """

    channel = "twilio"
    #: Twilio posts status callbacks per MessageSid: the pipeline records each part of a send.
    rules = ChannelRules(max_text_length=MAX_BODY, supports_buttons=False, status_callbacks=True)

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        redis: redis.Redis,
        key_prefix: str = "bb",
        *,
        api_base_url: str = TWILIO_API,
        public_url: str = "",
        status_callback_url: str = "",
        keywords: KeywordConfig | None = None,
        window_seconds: int = 24 * 3600,
        options_ttl_seconds: int = 24 * 3600,
        max_text_length: int = MAX_BODY,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        client: Client | None = None,
        rate: Rate = Rate(10, 1),
        max_rate_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not sender:
            raise ValueError(f"{type(self).__name__}: the sender number is empty (channels.twilio.{self.channel}_from)")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender = sender
        self._public_url = public_url
        self._status_callback = status_callback_url
        self._keywords = keywords or KeywordConfig()
        self._max_len = min(max_text_length, MAX_BODY)
        self._client = client or make_twilio_client(account_sid, auth_token, api_base_url, timeout)
        prefix = f"{key_prefix}:twilio"
        self.state = ChannelState(redis, prefix, clock, window_seconds, options_ttl_seconds)
        self._sent = SendLog(redis, prefix)
        self._rate = rate
        self._max_rate_wait = max_rate_wait
        self._limiter = RedisRateLimiter(redis, f"{prefix}:rl", sleep=sleep)
        self.rules = replace(self.rules, max_text_length=self._max_len)

    # -- inbound (shared by both channels) ----------------------------------------
    def parse(self, request: WebhookRequest) -> list[Inbound]:
        """Verify ``X-Twilio-Signature`` and parse one incoming WhatsApp or SMS message.

        Pure for ordinary messages (no Redis: the webhook stays cheap); the channel
        bookkeeping happens in :meth:`resolve`, which the worker calls at the start of the
        turn. One exception: an SMS opt-out keyword ("STOP") is recorded here at once, so
        nothing more is sent to the number even while the message waits in the queue; the
        Inbound gets ``kind="event"``, ``event="opt_out"``.

        Raises:
            ForgedRequest: signature missing or wrong (403).
            MalformedRequest: not a Twilio message (400).
        """
        form = form_of(request)
        verify_signature(request, self._auth_token, self._public_url, form)
        inbound = parse_message_form(form, datetime.fromtimestamp(self.state.clock(), UTC))
        if (
            inbound.channel == "sms"
            and not inbound.attachments
            and classify_keyword(inbound.text, self._keywords) == "opt_out"
        ):
            self._opt_out(inbound)
            return [replace(inbound, kind="event", event="opt_out")]
        return [inbound]

    def resolve(self, inbound: Inbound) -> Inbound:
        """The channel bookkeeping of one inbound, done by the worker before its turn.

        In one Redis round trip: a WhatsApp message opens (resets) the 24-hour window; an
        SMS keyword is classified and recorded (``kind="event"``, ``event="opt_out"|"opt_in"|
        "help"``: the runtime does not run the dialogue on it); an answer "2" (or an option's
        title) to numbered options gets ``kind="callback"``, ``payload`` and ``text`` = the
        option's title. Messages of one conversation reach it in order, so STOP / START take
        effect before any later reply to that number. Safe to call again for the same message
        (a turn redone after a crash resolves it the same way); an Inbound resolved already
        (an event, a pressed button) only notes the window.

        Raises:
            redis.RedisError: Redis unreachable (the worker leaves the message pending).
        """
        conv = inbound.conversation_id
        at = inbound.timestamp.timestamp()
        note_at = at if inbound.channel == "whatsapp" else None
        if inbound.kind != "message" or inbound.payload is not None:
            if inbound.kind == "event" and inbound.event == "opt_out" and inbound.channel == "sms":
                self._opt_out(inbound)  # idempotent; covers Inbounds that did not come through parse
            if note_at is not None:
                self.state.note_inbound(conv, note_at)
            return inbound
        keyword = (
            classify_keyword(inbound.text, self._keywords)
            if inbound.channel == "sms" and not inbound.attachments
            else None
        )
        if keyword == "opt_out":
            self._opt_out(inbound)
            return replace(inbound, kind="event", event=keyword)
        record, options = self.state.lookup(
            conv, note_at=note_at, opt_out=keyword == "opt_in", options=bool(inbound.text)
        )
        if keyword == "opt_in":
            keyword = self._opt_in(inbound, record, at)
        if keyword is not None:
            return replace(inbound, kind="event", event=keyword)
        picked = match_option(inbound.text, options) if options else None
        if picked is not None:
            return replace(inbound, kind="callback", payload=picked.payload, text=picked.title)
        return inbound

    def _opt_out(self, inbound: Inbound) -> None:
        self.state.opt_out(
            inbound.conversation_id,
            f"keyword {inbound.text.strip()!r}",
            at=inbound.timestamp.timestamp(),
            by=inbound.message_id,
        )
        log.info("sms %s opted out (%r)", inbound.conversation_id, inbound.text.strip())

    def _opt_in(self, inbound: Inbound, record: dict[str, Any] | None, at: float) -> Literal["opt_in"] | None:
        """ "opt_in" when ``inbound`` lifts (or, handled again, lifted) an opt-out, else None:
        "YES" from a subscribed number is an answer, not an opt-in."""
        conv = inbound.conversation_id
        if record is None:
            return None
        if "opted_in_by" in record:
            return "opt_in" if record["opted_in_by"] == inbound.message_id else None
        if float(record.get("at", 0)) > at:
            # a later STOP was recorded already (by the webhook): it wins; this START changes nothing
            log.info(
                "sms %s: %r predates the opt-out recorded at %s; stays opted out",
                conv,
                inbound.text.strip(),
                record.get("at"),
            )
            return "opt_in"
        self.state.opt_in(conv, by=inbound.message_id, at=at)
        log.info("sms %s opted back in (%r)", conv, inbound.text.strip())
        return "opt_in"

    def parse_status(self, request: WebhookRequest) -> StatusUpdate:
        """Verify and parse a status callback; 21610 marks the number opted out and
        63016 closes the WhatsApp window, so the next send does the right thing.

        Raises:
            ForgedRequest, MalformedRequest: as :meth:`parse`.
        """
        form = form_of(request)
        verify_signature(request, self._auth_token, self._public_url, form)
        update = parse_status_form(form)
        conv = f"{update.channel}:{update.recipient}"
        if update.error_code == str(OPT_OUT_CODE):
            self.state.opt_out(conv, f"twilio error {OPT_OUT_CODE}")
        elif update.error_code == str(WINDOW_CLOSED_CODE):
            self.state.close_window(conv)
        if update.failed:
            log.warning(
                "twilio message %s to %s %s (error %s)", update.message_sid, conv, update.status, update.error_code
            )
        return update

    def note_inbound(self, inbound: Inbound) -> None:
        """The customer wrote: open (reset) the WhatsApp window. :meth:`resolve` does it;
        call this for Inbounds handled another way. Idempotent."""
        if inbound.channel == "whatsapp":
            self.state.note_inbound(inbound.conversation_id, inbound.timestamp.timestamp())

    # -- outbound ---------------------------------------------------------------
    def _address(self, number: str) -> str:
        return number

    def _before_send(self, conversation: str, message: Outbound) -> Template | None:
        """Channel policy before any API call: raise, or return a template to send instead."""
        return message.template

    def _parts(self, conv: str, message: Outbound) -> tuple[list[dict[str, Any]], bool]:
        """The API calls of one send (form fields per message) and whether it is a template.

        Raises:
            PermanentSendError: the channel's policy refuses it, or there is nothing to send.
        """
        template = self._before_send(conv, message)
        if template is not None:
            variables = json.dumps(dict(template.variables))
            return [{"content_sid": template.content_sid, "content_variables": variables}], True
        text = render_numbered(message.text, message.quick_replies)
        chunks = split_text(text, self._max_len) if text.strip() else []
        media = [a.url for a in message.media if a.url]
        if len(media) != len(message.media):
            raise PermanentSendError(f"{self.channel}: every media item needs a public url (got {message.media!r})")
        parts: list[dict[str, Any]] = [{"body": c} for c in chunks] or [{}]
        if media:
            parts[0]["media_url"] = media
        if not parts[0]:
            raise PermanentSendError(f"{self.channel}: nothing to send (empty text and no media)")
        return parts, False

    def _finish(self, conv: str, message: Outbound, is_template: bool, sids: list[str]) -> str:
        """Offer the quick replies and log the send complete; returns its delivery id."""
        self.state.offer(conv, () if is_template else message.quick_replies)
        delivery = ",".join(sids)
        self._sent.complete(conv, message.idempotency_key, delivery)
        return delivery

    def send(self, message: Outbound) -> str:
        """Send one message; quick replies are rendered as numbered options.

        Returns:
            The MessageSid(s), comma-separated when the text was split.

        Raises:
            PermanentSendError: opted out (no API call made), window closed without a
                template, Twilio 21610 / 63016 / 63014 and other 4xx errors.
            OutcomeUnknown: the connection dropped or timed out after the request was
                written: Twilio may have created the message (ask :meth:`reconcile`).
            TransientSendError: Twilio unreachable (nothing sent), 429, 5xx, the sender's rate
                limit full (code ``"rate_limited"``, ``retry_after`` set).
        """
        number = bare_number(message.recipient)
        conv = f"{self.channel}:{number}"
        sent_before = self._sent.load(conv, message.idempotency_key)
        if sent_before.done is not None:
            log.info(
                "%s: %s already sent as %s; not sending twice", self.channel, message.idempotency_key, sent_before.done
            )
            return sent_before.done
        parts, is_template = self._parts(conv, message)
        sids = []
        for index, part in enumerate(parts):
            already = sent_before.part(index)
            if already is None:
                already = self._create(conv, number, part)
                self._sent.record_part(conv, message.idempotency_key, index, already)
            sids.append(already)
        return self._finish(conv, message, is_template, sids)

    def reconcile(self, message: Outbound, since: datetime) -> str | None:
        """Ask Twilio whether a send whose outcome is unknown went out (``Reconciles``).

        Lists the latest messages to the recipient from this channel's sender (no date
        filter: a message still queued has no DateSent), keeps those created at or after
        ``since`` minus :data:`RECONCILE_SKEW` that no logged send owns (this one's parts,
        an earlier reply with the same text), and matches each missing part's body in
        order (a template part matches any message). Parts found are logged as sent, so
        :meth:`send` sends only the others. Replies of one conversation are sent one at a
        time (the conversation lock), so nothing else of ours is in flight to the number.

        Returns:
            The delivery id when every part was found, else None.

        Raises:
            TransientSendError: Twilio could not be asked now (retry later).
        """
        number = bare_number(message.recipient)
        conv = f"{self.channel}:{number}"
        key = message.idempotency_key
        sent_before = self._sent.load(conv, key)
        if sent_before.done is not None:
            return sent_before.done
        try:
            parts, is_template = self._parts(conv, message)
        except PermanentSendError:
            return None  # the send raises it again, with its reason
        known = [sent_before.part(i) for i in range(len(parts))]
        expected = [None if is_template else p.get("body", "") for p, sid in zip(parts, known, strict=True) if not sid]
        taken = self._sent.attributed(conv)  # this send's logged parts and every other send's
        accepted = [a for a in self._accepted_since(conv, number, since) if a.id not in taken]
        found = iter(match_parts(expected, accepted))
        sids: list[str] = []
        for index, sid in enumerate(known):
            if sid is None:
                sid = next(found)
                if sid is None:
                    continue
                log.warning(
                    "%s: %s part %d was accepted by Twilio as %s; not sent again", self.channel, key, index, sid
                )
                self._sent.record_part(conv, key, index, sid)
            sids.append(sid)
        if len(sids) < len(parts):
            return None
        return self._finish(conv, message, is_template, sids)

    def _accepted_since(self, conv: str, number: str, since: datetime) -> list[Accepted]:
        """Outbound messages of this channel's sender to ``number`` created since ``since`` (less the skew)."""
        kwargs: dict[str, Any] = {"to": self._address(number), "limit": RECONCILE_LIMIT}
        service = self._sender if self._sender.startswith("MG") else None
        if service is None:
            kwargs["from_"] = self._sender
        try:
            listed = self._client.messages.list(**kwargs)
        except (TwilioException, OSError) as exc:  # a page error has no status; a list only reads: ask again later
            raise TransientSendError(
                f"{self.channel} to {conv}: could not ask Twilio what it accepted ({type(exc).__name__}: {exc})"
            ) from exc
        floor = since - RECONCILE_SKEW
        return [
            Accepted(m.sid, m.body or "", m.date_created)
            for m in listed
            if m.sid
            and m.date_created is not None
            and m.date_created >= floor
            and str(m.direction or "").startswith("outbound")
            and (service is None or m.messaging_service_sid == service)
        ]

    def _acquire(self, conv: str) -> None:
        """Take a slot in the sender's rate limit (waiting up to ``max_rate_wait``).

        Raises:
            TransientSendError: code ``"rate_limited"``, ``retry_after`` set; nothing sent.
        """
        try:
            self._limiter.acquire([(self._rate, self._sender)], self._max_rate_wait)
        except RateLimited as exc:
            raise TransientSendError(
                f"{self.channel} to {conv}: the rate limit of sender {self._sender} "
                f"({self._rate.amount} per {self._rate.seconds} s) is full: {exc}",
                code=RATE_LIMITED_CODE,
                retry_after=exc.retry_after,
            ) from exc

    def _create(self, conv: str, number: str, part: Mapping[str, Any]) -> str:
        self._acquire(conv)
        kwargs: dict[str, Any] = {"to": self._address(number), **part}
        if self._sender.startswith("MG"):
            kwargs["messaging_service_sid"] = self._sender
        else:
            kwargs["from_"] = self._sender
        if self._status_callback:
            kwargs["status_callback"] = self._status_callback
        try:
            sid = self._client.messages.create(**kwargs).sid
        except TwilioException as exc:
            raise self._translate(conv, exc) from exc
        except OSError as exc:  # what twilio's HTTP client raises (requests' errors are OSErrors)
            what = f"{type(exc).__name__}: {exc}"
            if request_may_have_arrived(exc):
                raise OutcomeUnknown(f"{self.channel} to {conv}: Twilio's answer was lost ({what})") from exc
            raise TransientSendError(f"{self.channel}: Twilio unreachable, nothing sent ({what})") from exc
        if sid is None:  # not seen: Twilio answers 201 with the message's SID (twilio types it optional)
            raise PermanentSendError(f"{self.channel} to {conv}: Twilio accepted the message but returned no SID")
        return sid

    def _translate(self, conv: str, exc: TwilioException) -> Exception:
        code = getattr(exc, "code", None)
        status = getattr(exc, "status", None) or 0
        text = (
            getattr(exc, "msg", None)
            or getattr(exc, "detail", None)
            or getattr(exc, "title", None)
            or type(exc).__name__
        )
        label = f"{self.channel} to {conv}: Twilio error {code} (HTTP {status}): {text}"
        if code == OPT_OUT_CODE:
            self.state.opt_out(conv, f"twilio error {OPT_OUT_CODE}")
            log.warning("%s; number marked opted out", label)
            return PermanentSendError(label, code=str(code))
        if code == WINDOW_CLOSED_CODE:
            self.state.close_window(conv)
            log.warning("%s; outside the 24-hour window: configure a template for this message kind", label)
            return PermanentSendError(label, code=str(code))
        if code == WHATSAPP_UNDELIVERABLE:
            log.warning("%s; WhatsApp could not deliver (blocked or unreachable); not retried", label)
            return PermanentSendError(label, code=str(code))
        if status == 429 or status >= 500 or code in RETRYABLE_CODES:
            return TransientSendError(label, code=str(code or status))
        return PermanentSendError(label, code=str(code or status))

    # -- administration -----------------------------------------------------------
    def check_credentials(self) -> str | None:
        """Fetch the account: None when the SID and token work, else what is wrong."""
        try:
            account = self._client.api.v2010.accounts(self._account_sid).fetch()
        except TwilioException as exc:
            return (
                f"Twilio refused the credentials for {self._account_sid}: {getattr(exc, 'msg', exc)} "
                f"(code {getattr(exc, 'code', '?')})"
            )
        except OSError as exc:  # connection refused, timeout, TLS (requests' errors are OSErrors)
            return f"Twilio unreachable: {exc}"
        if str(account.status) != "active":  # twilio annotates its Status class; the value is the API's string
            return f"Twilio account {self._account_sid} is {account.status!r}, not active"
        return None

    def close(self) -> None:
        """Nothing to close: the HTTP session closes with the process."""


class WhatsAppConnector(TwilioConnector):
    """WhatsApp through Twilio: free text inside the 24-hour window, templates outside it.

    Extra args:
        templates: per message kind (``"reply"``, ``"notification"``...), the template
            to send when the window is closed.
    """

    channel = "whatsapp"
    rules = ChannelRules(
        max_text_length=MAX_BODY,
        supports_buttons=False,
        max_buttons=9,
        status_callbacks=True,
        reply_window_seconds=24 * 3600,
        numbered_options=True,
    )

    def __init__(self, *args: Any, templates: Mapping[str, TemplateSpec] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._templates = dict(templates or {})
        self.rules = replace(self.rules, reply_window_seconds=self.state.window_seconds)

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}"

    def template_kinds(self) -> tuple[str, ...]:
        """The message kinds with an approved template (sendable outside the window)."""
        return tuple(sorted(self._templates))

    def window_open(self, recipient: str) -> bool:
        """Whether free text may go to ``recipient`` now (else a template is sent)."""
        return self.state.window_open(f"whatsapp:{bare_number(recipient)}")

    def _before_send(self, conversation: str, message: Outbound) -> Template | None:
        if message.template is not None:
            return message.template
        if self.state.window_open(conversation):
            return None
        spec = self._templates.get(message.kind)
        if spec is None:
            log.warning("whatsapp %s: window closed and no template for kind %r; not sent", conversation, message.kind)
            raise PermanentSendError(
                f"whatsapp to {conversation}: the 24-hour window is closed and no template is configured for "
                f"kind {message.kind!r} (configured: {sorted(self._templates)}); add "
                f"channels.twilio.whatsapp.templates.{message.kind}",
                code="window_closed",
            )
        try:
            return render_template(spec, message)
        except ValueError as exc:
            raise PermanentSendError(
                f"whatsapp to {conversation}: template for kind {message.kind!r}: {exc}",
                code=TEMPLATE_VARIABLES_CODE,
            ) from exc


class SmsConnector(TwilioConnector):
    """SMS through Twilio: opted-out numbers get nothing, replies split and numbered."""

    channel = "sms"
    rules = ChannelRules(
        max_text_length=MAX_BODY, supports_buttons=False, max_buttons=9, status_callbacks=True, numbered_options=True
    )

    def is_opted_out(self, recipient: str) -> bool:
        """Whether the number opted out (sends to it are refused)."""
        return self.state.opted_out(f"sms:{bare_number(recipient)}") is not None

    def unreachable(self, recipient: str) -> str | None:
        """Why nothing can be sent to ``recipient`` now (it opted out: the reason and when), or
        None (``Reachable``).

        Raises:
            redis.RedisError: Redis unreachable.
        """
        return self._opted_out_reason(f"sms:{bare_number(recipient)}")

    def _opted_out_reason(self, conversation: str) -> str | None:
        opted = self.state.opted_out(conversation)
        if opted is None:
            return None
        when = ""
        if isinstance(opted.get("at"), (int, float)):
            when = f" on {datetime.fromtimestamp(opted['at'], UTC):%Y-%m-%d %H:%M} UTC"
        return (
            f"the number opted out{when} ({opted.get('reason', 'no reason recorded')}); "
            "nothing is sent until it texts START"
        )

    def _before_send(self, conversation: str, message: Outbound) -> Template | None:
        reason = self._opted_out_reason(conversation)
        if reason is not None:
            raise PermanentSendError(f"sms to {conversation}: {reason}", code="opted_out")
        return message.template

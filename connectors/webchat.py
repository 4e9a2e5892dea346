"""The web chat channel: the brand's own chat page talks to this connector.

Inbound: the chat page posts JSON ``{"text": ..., "payload": ..., "client_id": ...}``;
the web layer identifies the visitor (a signed cookie) and passes the visitor id
in the ``X-Webchat-Visitor`` header of the :class:`WebhookRequest` it builds, so
this module never trusts a visitor id the browser chose.

Outbound: there is no vendor API to call. :meth:`WebchatConnector.send` appends
the reply to a per-visitor outbox in Redis (a capped stream with a TTL, keys
hash-tagged ``{webchat:<visitor>}`` so the same code runs on Redis Cluster) and,
in the same atomic script, publishes ``{"type": "webchat", "visitor": ..., "entry":
{...}}`` on the live channel given to the constructor; the web layer streams it to
the page (Server-Sent Events) and replays the outbox with :meth:`WebchatConnector.read`
from the last stream id the page saw.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from .base import ChannelRules, Inbound, Outbound, WebhookRequest
from .errors import BadInput, MalformedRequest, PermanentSendError, TransientSendError
from .input_text import clean_text

__all__ = ["WebchatConnector", "WebchatEntry", "VISITOR_HEADER", "CHANNEL", "valid_visitor_id", "valid_cursor"]

CHANNEL = "webchat"
#: header the web layer sets (from its signed cookie) on the WebhookRequest it builds.
VISITOR_HEADER = "X-Webchat-Visitor"
#: what a cursor looks like: a Redis stream id, or "0" for "from the start".
_CURSOR = re.compile(r"^(0|\d{1,20}-\d{1,20})$")
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: longest button payload accepted.
MAX_PAYLOAD = 200
#: XREAD BLOCK per round trip, below the client's socket timeout (5 s by default).
_BLOCK_CHUNK_MS = 2000

# Append one entry unless this idempotency key was already sent; returns the stream id.
# A new entry is published on the live channel in the same call: the event is
# ARGV[5] .. id .. ARGV[6] (the JSON around the new id, built by Python).
# KEYS[1] outbox stream, KEYS[2] hash idempotency key -> stream id;
# ARGV: maxlen, ttl seconds, idempotency key ('' for none), live channel ('' for none),
# event head, event tail, then field/value pairs.
_APPEND_LUA = """
if ARGV[3] ~= '' then
  local seen = redis.call('HGET', KEYS[2], ARGV[3])
  if seen then return seen end
end
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[3], id)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. id .. ARGV[6])
end
return id
"""
#: stands for the stream id while the event JSON is built (split around it; see _APPEND_LUA).
_ID_MARK = "\u0001id\u0001"


def _no_constant(name: str) -> Any:
    """JSON has no NaN nor Infinity (Python's decoder accepts them)."""
    raise ValueError(f"{name} is not a JSON value")


def valid_visitor_id(value: str) -> bool:
    """True if ``value`` can name a visitor (8-64 of ``A-Z a-z 0-9 _ -``)."""
    return bool(_VISITOR.match(value or ""))


def valid_cursor(value: str) -> bool:
    """True if ``value`` is a cursor :meth:`WebchatConnector.read` accepts (``0`` or a stream id)."""
    return bool(_CURSOR.match(value or ""))


@dataclass(frozen=True, slots=True)
class WebchatEntry:
    """One line of a visitor's transcript as the chat page shows it.

    ``role`` is ``"bot"`` for replies and ``"customer"`` for the visitor's own
    messages (echoed so a reloaded page shows the whole conversation).
    """

    id: str
    role: str
    text: str
    quick_replies: tuple[tuple[str, str], ...] = ()
    client_id: str | None = None
    ts: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "text": self.text,
            "quick_replies": [{"title": t, "payload": p} for t, p in self.quick_replies],
            "client_id": self.client_id,
            "ts": self.ts,
        }


class WebchatConnector:
    """The web chat as a channel: parse the page's JSON posts, keep replies in Redis.

    Args:
        redis_client: a Redis client (passed in; never created here).
        key_prefix: prefix of every key written (``stores.key_prefix``).
        live_channel: pub/sub channel on which each new outbox entry is published as
            ``{"type": "webchat", "visitor", "entry"}`` (the composition passes
            ``bots.live_events.live_channel(prefix)``); None publishes nothing.
        max_text_length: longest customer message accepted (longer: MalformedRequest).
        outbox_maxlen: approximate number of entries kept per visitor.
        ttl_seconds: a visitor's outbox expires this long after its last entry.
        clock: returns seconds since the epoch (for timestamps).
    """

    channel = CHANNEL
    rules = ChannelRules(max_text_length=4000, supports_buttons=True, max_buttons=10)

    def __init__(
        self,
        redis_client: redis.Redis,
        key_prefix: str = "bb",
        *,
        live_channel: str | None = None,
        max_text_length: int = 2000,
        outbox_maxlen: int = 200,
        ttl_seconds: int = 7 * 24 * 3600,
        clock: Any = time.time,
    ) -> None:
        self.redis = redis_client
        self.key_prefix = key_prefix
        self.live_channel = live_channel
        self.max_text_length = max_text_length
        self.outbox_maxlen = outbox_maxlen
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._append = redis_client.register_script(_APPEND_LUA)

    # -- keys -------------------------------------------------------------

    def outbox_key(self, visitor: str) -> str:
        """The Redis stream holding ``visitor``'s transcript."""
        return f"{self.key_prefix}:{{webchat:{visitor}}}:outbox"

    def _sent_key(self, visitor: str) -> str:
        return f"{self.key_prefix}:{{webchat:{visitor}}}:sent"

    @staticmethod
    def conversation_id(visitor: str) -> str:
        return f"{CHANNEL}:{visitor}"

    # -- inbound ------------------------------------------------------------

    def parse(self, request: WebhookRequest) -> list[Inbound]:
        """Turn one chat post into one :class:`Inbound`.

        The body is ``{"text": str, "payload": str?, "client_id": str}``; the
        visitor comes from the ``X-Webchat-Visitor`` header the web layer sets.
        ``message_id`` is ``<visitor>:<client_id>`` so a retried post dedupes
        and one visitor cannot collide with another's ids.

        The text and payload go through :func:`~connectors.input_text.clean_text` (NUL and
        other controls removed, NFC; a lone surrogate refused), the text is stripped.

        Raises:
            BadInput: text or payload holds a lone surrogate, or is too long.
            MalformedRequest: not a JSON object, bad visitor or client id,
                text neither given nor a payload.
        """
        visitor = request.header(VISITOR_HEADER) or ""
        if not valid_visitor_id(visitor):
            raise MalformedRequest(f"visitor id {visitor[:80]!r} is missing or invalid (8-64 of A-Z a-z 0-9 _ -)")
        try:
            body = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedRequest(f"web chat body is not valid UTF-8 JSON ({exc})") from exc
        except RecursionError as exc:
            raise MalformedRequest("web chat body is nested too deeply") from exc
        if not isinstance(body, dict):
            raise MalformedRequest(f"web chat body must be a JSON object, got {type(body).__name__}")
        unknown = set(body) - {"text", "payload", "client_id"}
        if unknown:
            raise MalformedRequest(f"unknown field(s) {sorted(unknown)}; valid: text, payload, client_id")
        text = body.get("text", "")
        payload = body.get("payload")
        client_id = body.get("client_id")
        if not isinstance(text, str):
            raise MalformedRequest(f"'text' must be a string, got {type(text).__name__}")
        if payload is not None and (not isinstance(payload, str) or not 0 < len(payload) <= MAX_PAYLOAD):
            raise MalformedRequest(f"'payload' must be a string of 1-{MAX_PAYLOAD} characters when given")
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise MalformedRequest("'client_id' is required: 8-64 of A-Z a-z 0-9 _ - (a uuid made by the page)")
        if payload is not None:
            payload = clean_text(payload, field="payload", max_chars=MAX_PAYLOAD, required=True)
        # no cap here: the limit applies to the text once stripped (the body's size is capped by the app)
        text = clean_text(text, field="text", max_chars=sys.maxsize).strip()
        if len(text) > self.max_text_length:
            raise BadInput("text", f"is {len(text)} characters; the limit is {self.max_text_length}")
        if not text and payload is None:
            raise MalformedRequest("empty message: give 'text' or a button 'payload'")
        return [
            Inbound(
                channel=CHANNEL,
                sender_id=visitor,
                conversation_id=self.conversation_id(visitor),
                message_id=f"{visitor}:{client_id}",
                text=text,
                timestamp=datetime.fromtimestamp(self.clock(), UTC),
                kind="message",
                payload=payload,
                raw={"client_id": client_id},
            )
        ]

    # -- outbox -------------------------------------------------------------

    def _event_parts(self, visitor: str, fields: Mapping[str, str]) -> tuple[str, str]:
        """The live event's JSON split around the (not yet known) stream id."""
        if not self.live_channel:
            return "", ""
        entry = self._entry(_ID_MARK, fields).to_dict()
        event = {"type": "webchat", "visitor": visitor, "entry": entry}
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        head, _mark, tail = text.partition(json.dumps(_ID_MARK)[1:-1])  # the first one: entry.id
        return head, tail

    def _add(self, visitor: str, fields: Mapping[str, str], idempotency_key: str | None) -> str:
        keys = [self.outbox_key(visitor), self._sent_key(visitor)]
        head, tail = self._event_parts(visitor, fields)
        args: list[Any] = [
            self.outbox_maxlen,
            self.ttl_seconds,
            idempotency_key or "",
            self.live_channel or "",
            head,
            tail,
        ]
        for k, v in fields.items():
            args += [k, v]
        try:
            got = self._append(keys=keys, args=args)
        except redis.RedisError as exc:
            raise TransientSendError(f"web chat outbox for {visitor!r} unavailable: {exc}") from exc
        return got.decode() if isinstance(got, bytes) else str(got)

    def send(self, message: Outbound) -> str:
        """Append a reply (text + quick replies) to the visitor's outbox.

        Sending again with the same ``idempotency_key`` appends nothing and
        returns the first delivery id (a redone turn never shows twice).

        Returns:
            The delivery id: ``webchat:<stream id>``.

        Raises:
            PermanentSendError: the recipient is not a valid visitor id, or nothing to show.
            TransientSendError: Redis did not answer (worth retrying).
        """
        visitor = message.recipient
        if not valid_visitor_id(visitor):
            raise PermanentSendError(f"web chat recipient {visitor[:80]!r} is not a visitor id")
        if not message.text and not message.quick_replies:
            raise PermanentSendError("web chat message has neither text nor quick replies")
        buttons = [[q.title, q.payload] for q in message.quick_replies[: self.rules.max_buttons]]
        fields = {
            "role": "bot",
            "text": message.text,
            "qr": json.dumps(buttons, ensure_ascii=False),
            "ts": f"{self.clock():.3f}",
        }
        return f"{CHANNEL}:{self._add(visitor, fields, message.idempotency_key)}"

    def echo(self, inbound: Inbound) -> str:
        """Record the visitor's own message in the transcript (once per message id).

        Returns:
            The stream id of the entry.
        """
        client_id = str(inbound.raw.get("client_id", ""))
        fields = {"role": "customer", "text": inbound.text, "cid": client_id, "ts": f"{self.clock():.3f}"}
        return self._add(inbound.sender_id, fields, f"in:{inbound.message_id}")

    def read(
        self, visitor: str, after: str = "0", wait_seconds: float = 0.0, limit: int = 100
    ) -> tuple[list[WebchatEntry], str]:
        """Entries of ``visitor``'s transcript after cursor ``after``.

        Args:
            visitor: the visitor id.
            after: ``"0"`` for everything kept, else the last id the page saw.
            wait_seconds: when nothing is there yet, wait up to this long for an entry (long poll).
            limit: at most this many entries.

        Returns:
            The entries and the cursor to pass next time (``after`` if nothing new).

        Raises:
            ValueError: bad visitor id or cursor.
        """
        if not valid_visitor_id(visitor):
            raise ValueError(f"visitor id {visitor[:80]!r} is invalid (8-64 of A-Z a-z 0-9 _ -)")
        if not valid_cursor(after):
            raise ValueError(f"cursor {after[:40]!r} is invalid; use 0 or an id from a previous read")
        key = self.outbox_key(visitor)
        start = "0-0" if after == "0" else after
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            block = min(left_ms, _BLOCK_CHUNK_MS) if left_ms > 0 else None
            got = self.redis.xread({key: start}, count=limit, block=block)
            if got:
                assert isinstance(got, list)  # the RESP2 reply our clients speak: [[key, [(id, fields), ...]]]
                entries = [self._entry(i, f) for i, f in got[0][1]]
                return entries, entries[-1].id
            if block is None or time.monotonic() >= deadline:
                return [], after

    def forget(self, visitor: str) -> int:
        """Erase ``visitor``'s transcript and markers ("delete my data"); returns keys removed."""
        return int(self.redis.delete(self.outbox_key(visitor), self._sent_key(visitor)))

    @staticmethod
    def _entry(raw_id: bytes | str, fields: Mapping[bytes, bytes] | Mapping[str, str]) -> WebchatEntry:
        f = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()
        }
        qr = tuple((str(t), str(p)) for t, p in json.loads(f.get("qr") or "[]"))
        return WebchatEntry(
            id=raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id),
            role=f.get("role", "bot"),
            text=f.get("text", ""),
            quick_replies=qr,
            client_id=f.get("cid") or None,
            ts=float(f.get("ts") or 0),
        )

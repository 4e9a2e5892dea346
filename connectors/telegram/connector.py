"""The Telegram connector: python-telegram-bot 22 composed, run through one owned anyio portal.

A chat whose customer blocked the bot (a ``my_chat_member`` update with status ``kicked``,
or a send answered 403 "bot was blocked by the user") is recorded in Redis, durably, under
``<key_prefix>:telegram:blocked:{telegram:<chat>}``; sends to it are refused without calling
Telegram (:class:`PermanentSendError` with code ``"blocked"``) until the customer unblocks
the bot (status ``member``) or writes again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import redis
from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from .._aio import Portal
from .._ratelimit import Rate, RateLimited, RedisRateLimiter
from .._sendlog import SendLog
from .._text import split_text
from ..base import ChannelRules, Inbound, Outbound, WebhookRequest
from ..errors import PermanentSendError, SendError, TransientSendError
from .keyboard import HASH_PREFIX, build_keyboard
from .parse import CHANNEL, conversation_id, decode_body, parse_update, verify_secret

log = logging.getLogger(__name__)
_T = TypeVar("_T")

__all__ = ["TelegramConnector", "MAX_TEXT", "DEFAULT_ALLOWED_UPDATES", "BLOCKED_CODE"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
#: update kinds asked of Telegram (reactions are only sent when asked for by name).
DEFAULT_ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member", "message_reaction")
#: the code of the PermanentSendError raised for a send to a chat that blocked the bot.
BLOCKED_CODE = "blocked"
#: what Telegram says (403) when the customer blocked the bot.
_BLOCKED_BY_USER = "blocked by the user"
#: Inbound kinds that show the customer is talking to the bot again (the block is lifted).
_TALKING = ("message", "edit", "callback")


def _retry_after(exc: RetryAfter) -> float:
    """Seconds to wait; PTB 22 returns int or timedelta (PTB_TIMEDELTA) and warns about the change."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramConnector:
    """Telegram Bot API: verify and parse webhook updates, send replies.

    Args:
        token: the bot token from BotFather.
        webhook_secret: the secret registered with setWebhook (checked on every update).
        redis: Redis client (rate limits, long callback payloads, pending callbacks, send log).
        key_prefix: prefix of every Redis key (``stores.key_prefix``).
        api_base_url: Bot API base (``https://api.telegram.org/bot``, a self-hosted server, a fake).
        per_chat: rate per chat (Telegram: about 1 message per second).
        overall: rate over all chats (Telegram: about 30 messages per second).
        max_rate_wait: seconds a send may wait for a rate slot before raising TransientSendError.
        timeout: seconds for one API call.
        buttons_per_row: inline keyboard layout.
        callback_ttl_seconds: how long hashed (long) callback payloads are remembered.
    """

    channel = CHANNEL
    rules = ChannelRules(max_text_length=MAX_TEXT, supports_buttons=True, max_buttons=24, reply_window_seconds=None)

    def __init__(
        self,
        token: str,
        webhook_secret: str,
        redis: redis.Redis,
        key_prefix: str = "bb",
        *,
        api_base_url: str = "https://api.telegram.org/bot",
        per_chat: Rate = Rate(1, 1),
        overall: Rate = Rate(30, 1),
        max_rate_wait: float = 5.0,
        timeout: float = 10.0,
        buttons_per_row: int = 1,
        callback_ttl_seconds: int = 30 * 24 * 3600,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise ValueError("Telegram token is empty: set TELEGRAM_BOT_TOKEN (channels.telegram.token)")
        self._secret = webhook_secret
        self._redis = redis
        self._prefix = f"{key_prefix}:{CHANNEL}"
        self._timeout = timeout
        self._per_chat = per_chat
        self._overall = overall
        self._max_rate_wait = max_rate_wait
        self._per_row = buttons_per_row
        self._callback_ttl = callback_ttl_seconds
        self._request = HTTPXRequest(
            connection_pool_size=32,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )
        self._updates_request = HTTPXRequest(
            connection_pool_size=1,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )
        self._bot = Bot(token, base_url=api_base_url, request=self._request, get_updates_request=self._updates_request)
        self._portal = Portal("telegram-connector")
        self._limiter = RedisRateLimiter(redis, f"{self._prefix}:rl", sleep=sleep)
        self._sent = SendLog(redis, self._prefix)

    @property
    def webhook_secret(self) -> str:
        """The secret the webhook checks ("" means every webhook is refused)."""
        return self._secret

    # -- plumbing -------------------------------------------------------------
    def _call(self, what: str, coro_fn: Callable[[], Coroutine[Any, Any, _T]], timeout: float | None = None) -> _T:
        """Run one Bot API call through the owned portal; vendor errors become SendErrors."""
        limit = timeout or self._timeout
        try:
            return self._portal.call(coro_fn, timeout=limit + 5)
        except RetryAfter as exc:
            wait = _retry_after(exc)
            log.warning("telegram %s: flood control, retry after %s s", what, wait)
            raise TransientSendError(
                f"Telegram {what}: flood control, retry after {wait:g} s", code="429", retry_after=wait
            ) from exc
        except Forbidden as exc:
            raise PermanentSendError(
                f"Telegram {what}: forbidden ({exc.message}); the customer blocked the bot or never started it",
                code="403",
            ) from exc
        except ChatMigrated as exc:
            raise PermanentSendError(f"Telegram {what}: the group moved to chat {exc.new_chat_id}", code="400") from exc
        except BadRequest as exc:
            raise PermanentSendError(f"Telegram {what}: bad request ({exc.message})", code="400") from exc
        except InvalidToken as exc:
            raise PermanentSendError(
                f"Telegram {what}: the bot token was rejected ({exc.message}); check TELEGRAM_BOT_TOKEN", code="401"
            ) from exc
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise TransientSendError(f"Telegram {what}: network or server error ({exc.message})") from exc
        except TelegramError as exc:
            raise TransientSendError(f"Telegram {what}: {exc.message}") from exc
        except TimeoutError as exc:
            raise TransientSendError(f"Telegram {what}: no answer within {limit:g} s") from exc
        except concurrent.futures.CancelledError as exc:  # close() cancels what is still waiting
            raise TransientSendError(f"Telegram {what}: cancelled, the connector was closed") from exc

    def _acquire(self, chat_id: str) -> None:
        try:
            self._limiter.acquire(
                [(self._per_chat, f"{{{conversation_id(chat_id)}}}"), (self._overall, "overall")], self._max_rate_wait
            )
        except RateLimited as exc:
            raise TransientSendError(
                f"Telegram rate limit: {exc}", code="rate_limited", retry_after=exc.retry_after
            ) from exc

    def _cb_key(self, data: str) -> str:
        return f"{self._prefix}:cb:{data}"

    def _pending_key(self, chat_id: str) -> str:
        return f"{self._prefix}:pending_cb:{{{conversation_id(chat_id)}}}"

    def _blocked_key(self, chat_id: str) -> str:
        return f"{self._prefix}:blocked:{{{conversation_id(chat_id)}}}"

    # -- blocked chats ------------------------------------------------------------
    def blocked(self, chat_id: str) -> dict[str, Any] | None:
        """When and why the chat was recorded as blocking the bot (``{"at", "reason", "by"?}``), or None.

        Raises:
            redis.RedisError: Redis unreachable.
        """
        got = self._redis.get(self._blocked_key(chat_id))
        if got is None:
            return None
        try:
            record = json.loads(got)
        except ValueError:
            record = None
        return record if isinstance(record, dict) else {"reason": "unknown"}

    def unreachable(self, recipient: str) -> str | None:
        """Why nothing can be sent to ``recipient`` (``"123456"`` or ``"telegram:123456"``) now:
        the chat blocked the bot (why and when); else None (``Reachable``).

        Raises:
            redis.RedisError: Redis unreachable.
        """
        chat_id = recipient.removeprefix(f"{CHANNEL}:")
        record = self.blocked(chat_id)
        if record is None:
            return None
        at = record.get("at")
        when = f" on {datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M} UTC" if isinstance(at, (int, float)) else ""
        return (
            f"the Telegram chat {chat_id} blocked the bot{when} ({record.get('reason', 'no reason recorded')}); "
            "nothing is sent until the customer unblocks it or writes again"
        )

    def mark_blocked(self, chat_id: str, reason: str, by: str | None = None) -> None:
        """Record that the customer blocked the bot in ``chat_id`` (durable: no expiry)."""
        record: dict[str, Any] = {"at": time.time(), "reason": reason}
        if by:
            record["by"] = by
        self._redis.set(self._blocked_key(chat_id), json.dumps(record))
        log.info("telegram chat %s blocked the bot (%s): sends to it are refused", chat_id, reason)

    def clear_blocked(self, chat_id: str) -> None:
        """The customer unblocked the bot or wrote again: sends go out again."""
        if self._redis.delete(self._blocked_key(chat_id)):
            log.info("telegram chat %s unblocked the bot", chat_id)

    def _note_membership(self, inbound: Inbound, *, clear_on_talk: bool) -> None:
        """Record a block / an unblock told by ``inbound`` (and, with ``clear_on_talk``, lift the
        block when the customer writes or presses a button)."""
        event = inbound.event if inbound.kind == "event" else None
        if event == "bot_blocked":
            self.mark_blocked(inbound.sender_id, "my_chat_member: the customer blocked the bot", inbound.message_id)
        elif event == "bot_unblocked" or (clear_on_talk and inbound.kind in _TALKING):
            self.clear_blocked(inbound.sender_id)

    # -- inbound --------------------------------------------------------------
    def parse(self, request: WebhookRequest) -> list[Inbound]:
        """Verify the secret token, then parse the update (see :meth:`parse_update`).

        Raises:
            ForgedRequest: missing or wrong ``X-Telegram-Bot-Api-Secret-Token``.
            MalformedRequest: the body is not a Telegram update.
            redis.RedisError: Redis unreachable while recording a block (answer 503).
        """
        verify_secret(request, self._secret)
        return self.parse_update(decode_body(request.body))

    def parse_update(self, data: Mapping[str, Any]) -> list[Inbound]:
        """Parse an already trusted update (also long polling's).

        No Redis for messages (the webhook stays cheap; see :meth:`resolve`); a
        ``my_chat_member`` block or unblock is recorded at once, like an SMS STOP, so nothing
        more is sent to the chat even while the event waits in the queue.
        """
        inbounds = list(parse_update(data))
        for inbound in inbounds:
            self._note_membership(inbound, clear_on_talk=False)
        return inbounds

    def resolve(self, inbound: Inbound) -> Inbound:
        """The worker's step before the turn: a pressed button gets its full payload back
        (long payloads travel as ``#h:`` hashes) and its callback query is remembered, so
        the next reply answers it (stops the spinner). A block / unblock event is recorded
        (again: idempotent), and a customer who writes or presses a button has unblocked the
        bot. Idempotent; other kinds pass as is.

        Raises:
            redis.RedisError: Redis unreachable (the worker leaves the message pending).
        """
        self._note_membership(inbound, clear_on_talk=True)
        if inbound.kind == "callback":
            return self._resolve_callback(inbound)
        return inbound

    def _resolve_callback(self, inbound: Inbound) -> Inbound:
        query = inbound.raw.get("callback_query") or {}
        if query.get("id"):
            key = self._pending_key(inbound.sender_id)
            pipe = self._redis.pipeline(transaction=True)
            pipe.sadd(key, str(query["id"]))
            pipe.expire(key, 900)  # Telegram refuses to answer queries older than ~15 minutes
            pipe.execute()
        if inbound.payload and inbound.payload.startswith(HASH_PREFIX):
            full = self._redis.get(self._cb_key(inbound.payload))
            if full is None:
                log.warning(
                    "telegram callback %s: long payload %s expired or unknown", inbound.message_id, inbound.payload
                )
                return replace(inbound, payload=None)
            return replace(inbound, payload=full.decode("utf-8") if isinstance(full, bytes) else full)
        return inbound

    def note_inbound(self, inbound: Inbound) -> None:
        """Nothing to note: Telegram has no reply window (same interface as Twilio's)."""

    # -- outbound -------------------------------------------------------------
    def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner (sending a reply to the chat does this automatically)."""
        self._call("answerCallbackQuery", lambda: self._bot.answer_callback_query(callback_query_id, text=text))

    def _answer_pending(self, chat_id: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.smembers(self._pending_key(chat_id))
        pipe.delete(self._pending_key(chat_id))
        ids, _ = pipe.execute()  # take them atomically: an id added meanwhile is not lost
        for raw_id in ids:
            try:
                self.answer_callback(raw_id.decode())
            except SendError as exc:  # too old to answer, or a hiccup: the reply still goes out
                log.warning("telegram: could not answer callback query %s: %s", raw_id.decode(), exc)

    def send(self, message: Outbound) -> str:
        """Send media, then text split at 4096 characters; quick replies on the last message.

        Returns:
            The Telegram message ids, comma-separated when several messages were sent.

        Raises:
            TransientSendError: 429 (with ``retry_after``), network, 5xx, own rate limit full.
            PermanentSendError: the chat is recorded as blocked (code ``"blocked"``, no API call),
                blocked by the customer (403: recorded), chat not found (400), bad token.
        """
        if self._portal.closed:
            raise RuntimeError("TelegramConnector.send(): the connector is closed (close() was called)")
        chat_id = message.recipient.removeprefix(f"{CHANNEL}:")
        if not chat_id.lstrip("-").isdigit() and not chat_id.startswith("@"):
            raise PermanentSendError(
                f"Telegram recipient {message.recipient!r} is not a chat id (e.g. '123456' or 'telegram:123456')"
            )
        conv = conversation_id(chat_id)
        idem = message.idempotency_key
        sent_before = self._sent.load(conv, idem)
        if sent_before.done is not None:
            log.info("telegram: %s already sent as %s; not sending twice", idem, sent_before.done)
            return sent_before.done
        blocked = self.blocked(chat_id)
        if blocked is not None:
            raise PermanentSendError(
                f"Telegram chat {chat_id} blocked the bot ({blocked.get('reason')}); nothing is sent "
                "until the customer unblocks it or writes again",
                code=BLOCKED_CODE,
            )
        self._answer_pending(chat_id)

        # each step is called with the keyword arguments of the last part (the keyboard)
        steps: list[tuple[str, Callable[..., Coroutine[Any, Any, Message]]]] = []
        for att in message.media:
            source = att.url or att.file_id
            cap = (att.caption or "")[:MAX_CAPTION] or None
            if att.kind == "location" and att.latitude is not None and att.longitude is not None:
                lat, lon = att.latitude, att.longitude
                steps.append(("sendLocation", partial(self._bot.send_location, chat_id, latitude=lat, longitude=lon)))
            elif source and att.kind == "image":
                steps.append(("sendPhoto", partial(self._bot.send_photo, chat_id, source, caption=cap)))
            elif source:
                steps.append(
                    ("sendDocument", partial(self._bot.send_document, chat_id, source, caption=cap, filename=att.name))
                )
            else:
                raise PermanentSendError(f"Telegram attachment {att!r} has neither url nor file_id (nor coordinates)")
        for chunk in split_text(message.text, MAX_TEXT) if message.text.strip() else []:
            steps.append(("sendMessage", partial(self._bot.send_message, chat_id, chunk)))
        if not steps:
            raise PermanentSendError("Telegram: nothing to send (empty text and no media)")

        markup = None
        if message.quick_replies:
            markup, to_store = build_keyboard(message.quick_replies, self._per_row)
            for data, payload in to_store.items():
                self._redis.set(self._cb_key(data), payload, ex=self._callback_ttl)

        ids: list[str] = []
        for index, (endpoint, step) in enumerate(steps):
            already = sent_before.part(index)
            if already is not None:
                ids.append(already)
                continue
            kw: dict[str, Any] = {"reply_markup": markup} if markup is not None and index == len(steps) - 1 else {}
            self._acquire(chat_id)
            try:
                sent = self._call(endpoint, partial(step, **kw))
            except PermanentSendError as exc:
                if exc.code == "403" and _BLOCKED_BY_USER in str(exc).lower():
                    self.mark_blocked(chat_id, f"{endpoint} answered 403: the customer blocked the bot")
                raise
            ids.append(str(sent.message_id))
            self._sent.record_part(conv, idem, index, ids[-1])
        delivery_id = ",".join(ids)
        self._sent.complete(conv, idem, delivery_id)
        return delivery_id

    # -- administration (CLI, doctor, polling) -----------------------------------
    def get_me(self) -> dict[str, Any]:
        """The bot's own user (checks the token)."""
        return self._call("getMe", self._bot.get_me).to_dict()

    def set_webhook(
        self,
        url: str,
        secret: str,
        drop_pending_updates: bool = False,
        allowed_updates: Sequence[str] = DEFAULT_ALLOWED_UPDATES,
    ) -> None:
        self._call(
            "setWebhook",
            lambda: self._bot.set_webhook(
                url,
                secret_token=secret,
                drop_pending_updates=drop_pending_updates,
                allowed_updates=list(allowed_updates),
            ),
        )

    def delete_webhook(self, drop_pending_updates: bool = False) -> None:
        self._call("deleteWebhook", lambda: self._bot.delete_webhook(drop_pending_updates=drop_pending_updates))

    def webhook_url(self) -> str:
        """The webhook URL Telegram has for this bot ("" when none: polling is possible)."""
        return self._call("getWebhookInfo", self._bot.get_webhook_info).url or ""

    def get_updates(
        self, offset: int | None, timeout: int = 25, allowed_updates: Sequence[str] = DEFAULT_ALLOWED_UPDATES
    ) -> list[dict[str, Any]]:
        """One long-polling call; returns raw updates (dicts shaped like the webhook's)."""
        updates = self._call(
            "getUpdates",
            lambda: self._bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=list(allowed_updates),
                read_timeout=timeout + self._timeout,
            ),
            timeout=timeout + self._timeout,
        )
        return [u.to_dict() for u in updates]

    def close(self) -> None:
        """Close the HTTP clients and the portal (its event loop thread); idempotent."""

        async def shutdown() -> None:
            await asyncio.gather(self._request.shutdown(), self._updates_request.shutdown())

        self._portal.close(shutdown)

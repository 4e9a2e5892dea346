"""Per-customer channel state in Redis: the reply window, opt-outs, offered options.

Twilio (WhatsApp's 24-hour window, SMS opt-outs, numbered options) and Meta (the Messenger,
Instagram and WhatsApp Cloud windows, offered buttons) keep the same three things per customer.

Every key carries the customer in a hash tag (``{whatsapp:+316...}``) so the
same code runs on Redis Cluster. Times come from the injected clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.commands.core import Script

from .base import QuickReply

__all__ = ["ChannelState", "active_opt_out"]

# KEYS: last_inbound, opted_out, options (one conversation: one hash slot).
# ARGV: note time ('' = do not note), window key ttl, read opt-out (1/0), read options (1/0).
# A noted time only ever moves forward (a late duplicate must not move the window back).
_LOOKUP = (
    "if ARGV[1] ~= '' then "
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end end "
    "local opted = false if ARGV[3] == '1' then opted = redis.call('GET', KEYS[2]) end "
    "local options = false if ARGV[4] == '1' then options = redis.call('GET', KEYS[3]) end "
    "return {opted, options}"
)


def active_opt_out(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record when it is an opt-out in force, None when absent or lifted (an opt-in marker)."""
    if record is None or "opted_in_by" in record:
        return None
    return record


class ChannelState:
    """Args:
    client: Redis client.
    key_prefix: e.g. ``"bb:twilio"``, ``"bb:meta"``.
    clock: seconds since the epoch (injected in tests to move past 24 hours).
    window_seconds: length of the customer service window (WhatsApp, Messenger: 24 hours).
    options_ttl_seconds: how long offered numbered options stay answerable.
    """

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        clock: Callable[[], float] = time.time,
        window_seconds: int = 24 * 3600,
        options_ttl_seconds: int = 24 * 3600,
    ) -> None:
        self._r = client
        self._p = key_prefix
        self.clock = clock
        self.window_seconds = window_seconds
        self._options_ttl = options_ttl_seconds
        self._lookup: Script | None = None  # the registered _LOOKUP script, on first use

    def _key(self, what: str, conversation: str) -> str:
        return f"{self._p}:{what}:{{{conversation}}}"

    # -- WhatsApp customer service window ---------------------------------------
    def note_inbound(self, conversation: str, at: float | None = None) -> None:
        """The customer wrote: the window is open for ``window_seconds`` from ``at`` (default now)."""
        self.lookup(conversation, note_at=self.clock() if at is None else at)

    def lookup(
        self, conversation: str, *, note_at: float | None = None, opt_out: bool = False, options: bool = False
    ) -> tuple[dict[str, Any] | None, list[QuickReply]]:
        """One round trip (one Lua script, keys of one hash slot: fine on Redis Cluster) for what
        an inbound needs before its turn: optionally note it in the window (``note_at``), and
        read the opt-out record and the offered options.

        Returns:
            ``(opt-out record or None, offered options)``; the record is the raw one (an opt-in
            keeps ``{"opted_in_by": message id}`` for a while, see :meth:`opt_in`).
        """
        if note_at is None and not opt_out and not options:
            return None, []
        if self._lookup is None:
            self._lookup = self._r.register_script(_LOOKUP)
        keys = [self._key(k, conversation) for k in ("last_inbound", "opted_out", "options")]
        args: list[str | int] = [
            "" if note_at is None else repr(note_at),
            self.window_seconds + 3600,
            int(opt_out),
            int(options),
        ]
        raw_record, raw_options = self._lookup(keys=keys, args=args)
        record = json.loads(raw_record) if raw_record is not None else None
        offered = [QuickReply(t, p) for t, p in json.loads(raw_options)] if raw_options is not None else []
        return record, offered

    def last_inbound(self, conversation: str) -> float | None:
        got = self._r.get(self._key("last_inbound", conversation))
        return float(got) if got is not None else None

    def window_open(self, conversation: str) -> bool:
        last = self.last_inbound(conversation)
        return last is not None and self.clock() - last < self.window_seconds

    def close_window(self, conversation: str) -> None:
        """Twilio said 63016 (outside the window): trust it over our own record."""
        self._r.delete(self._key("last_inbound", conversation))

    # -- SMS opt-out ----------------------------------------------------------
    def opt_out(self, conversation: str, reason: str, at: float | None = None, by: str | None = None) -> None:
        """Record the opt-out; ``at`` is when the customer asked (default now), ``by`` the message id."""
        record = {"at": self.clock() if at is None else at, "reason": reason}
        if by:
            record["by"] = by
        self._r.set(self._key("opted_out", conversation), json.dumps(record))

    def opt_in(self, conversation: str, by: str | None = None, at: float | None = None) -> None:
        """Lift the opt-out. With ``by`` (the opt-in message id) a marker is kept for a day so
        the same message, handled again after a crash, is still recognised as the opt-in."""
        key = self._key("opted_out", conversation)
        if by is None:
            self._r.delete(key)
        else:
            marker = {"opted_in_by": by, "at": self.clock() if at is None else at}
            self._r.set(key, json.dumps(marker), ex=self._options_ttl)

    def opted_out(self, conversation: str) -> dict[str, Any] | None:
        """When and why the number opted out (``{"at": ..., "reason": ...}``), or None."""
        got = self._r.get(self._key("opted_out", conversation))
        return active_opt_out(json.loads(got)) if got is not None else None

    # -- numbered quick replies ------------------------------------------------
    def offer(self, conversation: str, options: Sequence[QuickReply]) -> None:
        """Remember the options just offered (none: forget the previous ones)."""
        key = self._key("options", conversation)
        if options:
            self._r.set(key, json.dumps([[q.title, q.payload] for q in options]), ex=self._options_ttl)
        else:
            self._r.delete(key)

    def offered(self, conversation: str) -> list[QuickReply]:
        got = self._r.get(self._key("options", conversation))
        return [QuickReply(t, p) for t, p in json.loads(got)] if got is not None else []

"""Per-customer Twilio state in Redis: WhatsApp service window, SMS opt-outs, offered options.

Every key carries the customer in a hash tag (``{whatsapp:+316...}``) so the
same code runs on Redis Cluster. Times come from the injected clock.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Sequence

import redis

from ..base import QuickReply

__all__ = ["TwilioState"]


class TwilioState:
    """Args:
        client: Redis client.
        key_prefix: e.g. ``"bb:twilio"``.
        clock: seconds since the epoch (injected in tests to move past 24 hours).
        window_seconds: length of the WhatsApp customer service window.
        options_ttl_seconds: how long offered numbered options stay answerable.
    """

    def __init__(self, client: redis.Redis, key_prefix: str, clock: Callable[[], float] = time.time,
                 window_seconds: int = 24 * 3600, options_ttl_seconds: int = 24 * 3600) -> None:
        self._r = client
        self._p = key_prefix
        self.clock = clock
        self.window_seconds = window_seconds
        self._options_ttl = options_ttl_seconds

    def _key(self, what: str, conversation: str) -> str:
        return f"{self._p}:{what}:{{{conversation}}}"

    # -- WhatsApp customer service window ---------------------------------------
    def note_inbound(self, conversation: str, at: float | None = None) -> None:
        """The customer wrote: the window is open for ``window_seconds`` from ``at`` (default now)."""
        at = self.clock() if at is None else at
        # keep the newest time only (a late duplicate must not move the window back)
        self._r.eval(
            "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 1",
            1, self._key("last_inbound", conversation), repr(at), self.window_seconds + 3600,
        )

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
    def opt_out(self, conversation: str, reason: str) -> None:
        self._r.set(self._key("opted_out", conversation), json.dumps({"at": self.clock(), "reason": reason}))

    def opt_in(self, conversation: str) -> None:
        self._r.delete(self._key("opted_out", conversation))

    def opted_out(self, conversation: str) -> dict | None:
        """When and why the number opted out (``{"at": ..., "reason": ...}``), or None."""
        got = self._r.get(self._key("opted_out", conversation))
        return json.loads(got) if got is not None else None

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

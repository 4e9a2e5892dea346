"""Idempotent sends: remember what was sent per ``Outbound.idempotency_key``.

A turn that is redone (a worker died after sending, before the ack) sends the
same Outbound again; the log answers with the first delivery id instead of a
second message. Multi-part sends (split text, media) remember each part, so a
retry after a failure in part 3 does not resend parts 1 and 2.
"""

from __future__ import annotations

import redis

__all__ = ["SendLog"]


class SendLog:
    """Parts sent per idempotency key, in one Redis hash per key with a TTL.

    Args:
        client: Redis client.
        key_prefix: e.g. ``"bb:telegram"``.
        ttl_seconds: how long a key is remembered (at least the pipeline's retry horizon).
    """

    def __init__(self, client: redis.Redis, key_prefix: str, ttl_seconds: int = 2 * 24 * 3600) -> None:
        self._r = client
        self._prefix = key_prefix
        self._ttl = ttl_seconds

    def _key(self, conversation: str, idem: str) -> str:
        return f"{self._prefix}:sent:{{{conversation}}}:{idem}"

    def _get(self, conversation: str, idem: str | None, field: str) -> str | None:
        if not idem:
            return None
        got = self._r.hget(self._key(conversation, idem), field)
        return got.decode() if got is not None else None

    def _put(self, conversation: str, idem: str | None, field: str, delivery_id: str) -> None:
        if not idem:
            return
        key = self._key(conversation, idem)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, field, delivery_id)
        pipe.expire(key, self._ttl)
        pipe.execute()

    def done(self, conversation: str, idem: str | None) -> str | None:
        """The delivery id of a completed send with this key, else None."""
        return self._get(conversation, idem, "done")

    def part(self, conversation: str, idem: str | None, index: int) -> str | None:
        return self._get(conversation, idem, f"p{index}")

    def record_part(self, conversation: str, idem: str | None, index: int, delivery_id: str) -> None:
        self._put(conversation, idem, f"p{index}", delivery_id)

    def complete(self, conversation: str, idem: str | None, delivery_id: str) -> None:
        self._put(conversation, idem, "done", delivery_id)

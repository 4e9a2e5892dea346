"""Idempotent sends: remember what was sent per ``Outbound.idempotency_key``.

A turn that is redone (a worker died after sending, before the ack) sends the
same Outbound again; the log answers with the first delivery id instead of a
second message. Multi-part sends (split text, media) remember each part, so a
retry after a failure in part 3 does not resend parts 1 and 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import redis

__all__ = ["SendLog", "Sent"]


def _str(value: bytes | str) -> str:
    """A Redis reply as text (the clients here answer bytes; redis-py types both)."""
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Sent:
    """The log of one idempotency key: the delivery id once complete, and each part's."""

    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def done(self) -> str | None:
        """The delivery id of the completed send, else None."""
        return self.fields.get("done")

    def part(self, index: int) -> str | None:
        """The delivery id of part ``index`` if it went out, else None."""
        return self.fields.get(f"p{index}")


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

    def load(self, conversation: str, idem: str | None) -> Sent:
        """What was sent with this key so far, read in one round trip (empty without a key)."""
        if not idem:
            return Sent()
        raw = self._r.hgetall(self._key(conversation, idem))
        return Sent({_str(k): _str(v) for k, v in raw.items()})

    def _put(self, conversation: str, idem: str | None, name: str, delivery_id: str) -> None:
        if not idem:
            return
        key = self._key(conversation, idem)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, name, delivery_id)
        pipe.expire(key, self._ttl)
        pipe.execute()

    def record_part(self, conversation: str, idem: str | None, index: int, delivery_id: str) -> None:
        self._put(conversation, idem, f"p{index}", delivery_id)

    def complete(self, conversation: str, idem: str | None, delivery_id: str) -> None:
        self._put(conversation, idem, "done", delivery_id)

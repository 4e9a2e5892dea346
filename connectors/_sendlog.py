"""Idempotent sends: remember what was sent per ``Outbound.idempotency_key``.

A turn that is redone (a worker died after sending, before the ack) sends the
same Outbound again; the log answers with the first delivery id instead of a
second message. Multi-part sends (split text, media) remember each part, so a
retry after a failure in part 3 does not resend parts 1 and 2.

The log is written after the channel answers, so two cases stay open: the answer
is lost (the connection dropped after the channel read the request, a read
timeout), and the process dies between the answer and the write. A connector
raises :class:`~connectors.errors.OutcomeUnknown` for the first; where the channel
can be asked what it accepted (Twilio's Messages list), the connector implements
:class:`~connectors.base.Reconciles` and the deliverer asks before sending again. :func:`match_parts` is the pure half
of that question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import redis

__all__ = ["SendLog", "Sent", "Accepted", "match_parts"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """One message the channel says it accepted: its id, text and creation time (aware)."""

    id: str
    body: str
    created_at: datetime


def match_parts(expected: Sequence[str | None], accepted: Sequence[Accepted]) -> list[str | None]:
    """Which accepted messages are the parts of one send.

    Args:
        expected: each part's text, in order; None for a part whose text the channel
            renders itself (a template): any message matches it.
        accepted: candidate messages to the same recipient from the same sender, created
            since the intent (any order), none of them known to belong to another send.

    Returns:
        Per part, the id of the earliest unused candidate with the same text (created no
        earlier than the previous part's match), else None.
    """
    pool = sorted(accepted, key=lambda a: (a.created_at, a.id))
    used: set[str] = set()
    found: list[str | None] = []
    floor: datetime | None = None
    for text in expected:
        hit = next(
            (
                a
                for a in pool
                if a.id not in used and (text is None or a.body == text) and (floor is None or a.created_at >= floor)
            ),
            None,
        )
        if hit is None:
            found.append(None)
            continue
        used.add(hit.id)
        floor = hit.created_at
        found.append(hit.id)
    return found


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
    """Parts sent per idempotency key, in one Redis hash per key with a TTL; and per
    conversation, the set of every part's delivery id logged (what :meth:`attributed` answers).

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

    def _ids_key(self, conversation: str) -> str:
        return f"{self._prefix}:sent_ids:{{{conversation}}}"

    def load(self, conversation: str, idem: str | None) -> Sent:
        """What was sent with this key so far, read in one round trip (empty without a key)."""
        if not idem:
            return Sent()
        raw = self._r.hgetall(self._key(conversation, idem))
        return Sent({_str(k): _str(v) for k, v in raw.items()})

    def attributed(self, conversation: str) -> set[str]:
        """Delivery ids of every part logged in ``conversation`` (within the TTL), whatever its key:
        a message found at the channel with one of these ids belongs to a known send."""
        return {_str(v) for v in self._r.smembers(self._ids_key(conversation))}

    def _put(self, conversation: str, idem: str | None, name: str, delivery_id: str, part: bool) -> None:
        if not idem:
            return
        key = self._key(conversation, idem)
        pipe = self._r.pipeline(transaction=True)  # one hash slot: both keys carry {conversation}
        pipe.hset(key, name, delivery_id)
        pipe.expire(key, self._ttl)
        if part:
            pipe.sadd(self._ids_key(conversation), delivery_id)
            pipe.expire(self._ids_key(conversation), self._ttl)
        pipe.execute()

    def record_part(self, conversation: str, idem: str | None, index: int, delivery_id: str) -> None:
        self._put(conversation, idem, f"p{index}", delivery_id, part=True)

    def complete(self, conversation: str, idem: str | None, delivery_id: str) -> None:
        self._put(conversation, idem, "done", delivery_id, part=False)

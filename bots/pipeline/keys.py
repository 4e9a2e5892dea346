"""Redis key names of the pipeline, hash-tagged so every script stays in one slot.

On Redis Cluster a Lua script or MULTI may only touch keys of one hash slot. The
slot is chosen by the part in braces (the hash tag):

- ``{p}:in:{sN}``: inbound stream of shard N, with its lease ``{p}:lease:{sN}``
  and the dedupe keys ``{p}:dedupe:{sN}:<channel>:<message id>`` of the messages
  routed to it (a message always routes to the shard of its conversation), so
  ingest (dedupe + backlog check + XADD) is one atomic script.
- ``{p}:sent:{<conversation>}:<idempotency key>``: a reply's "already sent" mark,
  tagged by conversation like the dialogue state.
- ``{p}:dlq:{dlq}`` and ``{p}:workers:{pipeline}``: one key each.
"""

from __future__ import annotations

import hashlib
import zlib

__all__ = ["Keys", "GROUP"]

#: consumer group every worker reads the inbound streams with.
GROUP = "workers"


def _tag(value: str) -> str:
    """A hash tag body for ``value``: itself when safe, else a digest (braces would break the tag)."""
    if value and "{" not in value and "}" not in value and len(value) <= 200:
        return value
    return "h" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:20]


class Keys:
    """Key names for one deployment (``prefix`` from ``stores.key_prefix``)."""

    def __init__(self, prefix: str, shards: int) -> None:
        if shards < 1:
            raise ValueError(f"shards must be >= 1, got {shards}")
        self.prefix = prefix
        self.shards = shards

    def shard_of(self, conversation_id: str) -> int:
        """The shard of a conversation: stable across processes and machines (CRC32, not hash())."""
        return zlib.crc32(conversation_id.encode("utf-8")) % self.shards

    def stream(self, shard: int) -> str:
        return f"{self.prefix}:in:{{s{shard}}}"

    def lease(self, shard: int) -> str:
        return f"{self.prefix}:lease:{{s{shard}}}"

    def dedupe(self, shard: int, channel: str, message_id: str) -> str:
        return f"{self.prefix}:dedupe:{{s{shard}}}:{channel}:{message_id}"

    def sent(self, conversation_id: str, idempotency_key: str) -> str:
        return f"{self.prefix}:sent:{{{_tag(conversation_id)}}}:{idempotency_key}"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}:dlq:{{dlq}}"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers:{{pipeline}}"

    def all_streams(self) -> list[str]:
        return [self.stream(s) for s in range(self.shards)]
